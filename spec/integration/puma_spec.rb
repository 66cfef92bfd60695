# frozen_string_literal: true

require "json"
require "net/http"
require "socket"
require "tmpdir"
require_relative "../support/server_helpers"

# Starts examples/puma (4 workers, preload_app!) on 127.0.0.1 and a free
# port, sends 2,000 requests over loopback from several client threads and
# checks what the workers recorded in shared memory.
RSpec.describe "Puma cluster example", :integration do
  root = File.expand_path("../..", __dir__)
  requests = 2_000
  client_threads = 8

  include ServerHelpers

  it "counts every request exactly and never lets more than 2 into the slow section" do
    Dir.mktmpdir do |dir|
      log = File.join(dir, "puma.log")
      port = free_port
      pid = Process.spawn(
        { "RUBYLIB" => File.join(root, "lib") },
        "puma", "-C", File.join(root, "examples/puma/puma.rb"),
        "-b", "tcp://127.0.0.1:#{port}", File.join(root, "examples/puma/config.ru"),
        out: log, err: log, pgroup: true
      )
      begin
        wait_until_listening(port, pid, log)
        responses = Queue.new
        clients = Array.new(client_threads) do |client|
          Thread.new do
            Net::HTTP.start("127.0.0.1", port, read_timeout: 30) do |http|
              (requests / client_threads).times do |i|
                # Every tenth request is slow (50 ms), staggered across clients.
                path = ((i + client) % 10).zero? ? "/slow" : "/hit"
                responses << http.get(path).code
              end
            end
          end
        end
        clients.each(&:join)
        codes = Array.new(responses.size) { responses.pop }
        stats = JSON.parse(Net::HTTP.get(URI("http://127.0.0.1:#{port}/stats")))

        expect(codes.size).to eq(requests)
        expect(codes.uniq).to eq(["200"])
        expect(stats["hits"]).to eq(codes.size)
        expect(stats["in_flight"]).to eq(0)
        expect(stats["peak"]).to eq(2)
      rescue RSpec::Expectations::ExpectationNotMetError, StandardError
        warn "puma log:\n#{File.read(log)}"
        raise
      ensure
        stop_server(pid)
      end
    end
  end
end
