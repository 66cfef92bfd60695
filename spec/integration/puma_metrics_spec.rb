# frozen_string_literal: true

require "net/http"
require "socket"
require "tmpdir"
require_relative "../support/server_helpers"

# Starts examples/puma_metrics (4 workers, preload_app!) on 127.0.0.1 and a
# free port, sends 2,000 requests from 8 client threads, SIGKILLs every
# worker half-way (one of them in the middle of a request), and checks the
# Prometheus metrics against the responses: nothing the dead workers
# counted is lost, and their unfinished request leaves the in-flight gauge.
# (The counters are anonymous shared memory: no file per process, by
# construction.)
RSpec.describe "Puma cluster metrics example", :integration do
  root = File.expand_path("../..", __dir__)
  example = File.join(root, "examples/puma_metrics")
  requests = 2_000
  client_threads = 8

  include ServerHelpers

  # {"metric{label=\"value\"}" => number} from the Prometheus text format.
  def metrics(port)
    body = Net::HTTP.get(URI("http://127.0.0.1:#{port}/metrics"))
    body.lines.reject { |line| line.start_with?("#") }.to_h do |line|
      name, value = line.split
      [name, Integer(value)]
    end
  end

  # Workers Puma has booted so far, restarts included.
  def boots(port)
    metrics(port).select { |name, _| name.start_with?("puma_worker_boots_total{") }.values.sum
  end

  def wait_for(what, deadline: 30)
    give_up = monotonic_now + deadline
    until yield
      raise "timed out waiting for #{what}" if monotonic_now > give_up

      sleep 0.05
    end
  end

  # Sends `count` requests from `client_threads` threads; the paths
  # requested and the status codes, as a Hash of [path, code] => count.
  def send_requests(port, count, client_threads)
    results = Queue.new
    Array.new(client_threads) do |client|
      Thread.new do
        Net::HTTP.start("127.0.0.1", port, read_timeout: 30) do |http|
          (count / client_threads).times do |i|
            path = case (i + client) % 20
                   when 0 then "/slow?ms=20"
                   when 7 then "/nope"
                   else "/"
                   end
            results << [path.split("?").first, http.get(path).code]
          end
        end
      end
    end.each(&:join)
    Array.new(results.size) { results.pop }.tally
  end

  it "counts every request of every worker, across SIGKILLed workers" do
    Dir.mktmpdir do |dir|
      log = File.join(dir, "puma.log")
      port = free_port
      pid = Process.spawn(
        { "RUBYLIB" => File.join(root, "lib"), "WEB_CONCURRENCY" => "4" },
        "puma", "-C", File.join(example, "puma.rb"),
        "-b", "tcp://127.0.0.1:#{port}", File.join(example, "config.ru"),
        out: log, err: log, pgroup: true
      )
      begin
        wait_until_listening(port, pid, log)
        wait_for("4 workers") { boots(port) == 4 }
        first = send_requests(port, requests / 2, client_threads)

        # A request that its worker will not live to finish (and that
        # Net::HTTP must not send again when the connection drops).
        unfinished = Thread.new do
          Net::HTTP.start("127.0.0.1", port, max_retries: 0) { |http| http.get("/slow?ms=10000").code }
        rescue StandardError => e
          e
        end
        wait_for("the long request") { metrics(port)['http_requests_in_flight{route="/slow"}'] == 1 }
        workers = `pgrep -P #{pid}`.split.map { |worker| Integer(worker) }
        expect(workers.size).to eq(4)
        workers.each { |worker| Process.kill(:KILL, worker) }
        expect(unfinished.value).to be_a(StandardError)
        wait_for("Puma to restart the workers") do
          boots(port) == 8
        rescue Errno::ECONNREFUSED, Errno::ECONNRESET, EOFError
          false
        end
        expect(metrics(port)['http_requests_in_flight{route="/slow"}']).to eq(0)

        second = send_requests(port, requests / 2, client_threads)
        responses = first.merge(second) { |_, a, b| a + b }
        expect(responses.values.sum).to eq(requests)
        expect(responses.keys.map(&:last).uniq.sort).to eq(%w[200 404])

        final = metrics(port)
        expect(final['http_requests_total{route="/"}']).to eq(responses.fetch(["/", "200"]))
        expect(final['http_requests_total{route="/slow"}']).to eq(responses.fetch(["/slow", "200"]) + 1)
        expect(final['http_requests_total{route="other"}']).to eq(responses.fetch(["/nope", "404"]))
        expect(final.select { |name, _| name.start_with?("http_requests_in_flight{") }.values).to all(eq(0))
        expect(final['http_requests_in_flight_peak{route="/"}']).to be_between(1, client_threads)
        expect(final['http_requests_in_flight_peak{route="/slow"}']).to be_between(1, client_threads + 1)
      rescue RSpec::Expectations::ExpectationNotMetError, StandardError
        warn "puma log:\n#{File.read(log)}"
        raise
      ensure
        stop_server(pid)
      end
    end
  end
end
