# frozen_string_literal: true

require "json"
require "net/http"
require "socket"
require "tmpdir"
require_relative "../support/server_helpers"

# Starts examples/unicorn_reexec (2 workers) on 127.0.0.1, upgrades it with
# USR2 (a new master, exec'd) while clients keep sending requests, retires
# the old master with QUIT, and checks that every request was counted
# exactly once by the named counter and lock both masters' workers share.
RSpec.describe "Unicorn USR2 re-exec example", :integration do
  root = File.expand_path("../..", __dir__)
  client_threads = 4

  include ServerHelpers

  def eventually(what, log, deadline: 30)
    give_up = monotonic_now + deadline
    until (value = yield)
      raise "#{what} within #{deadline}s:\n#{File.read(log)}" if monotonic_now > give_up

      sleep 0.05
    end
    value
  end

  def alive?(pid)
    Process.kill(0, pid)
    true
  rescue Errno::ESRCH
    false
  end

  # The pid in `file`, or nil while there is none: unicorn renames and
  # rewrites its pid files during a re-exec, so one may vanish between a
  # look and a read.
  def read_pid(file)
    Integer(File.read(file), exception: false)
  rescue Errno::ENOENT
    nil
  end

  # Ends a master and waits until it is gone (the new master is not our
  # child: it was forked by the old one, so it is polled, not reaped).
  def stop(pid)
    return unless pid && alive?(pid)

    Process.kill(:TERM, pid)
    deadline = monotonic_now + 30
    while alive?(pid)
      Process.waitpid(pid, Process::WNOHANG) rescue nil # rubocop:disable Style/RescueModifier
      Process.kill(:KILL, pid) if monotonic_now > deadline
      sleep 0.05
    end
  end

  it "counts every request exactly once across the old and the new master" do
    Dir.mktmpdir do |dir|
      log = File.join(dir, "unicorn.log")
      pid_file = File.join(dir, "unicorn.pid")
      prefix = "uc#{Process.pid}"
      port = free_port
      first = Process.spawn(
        { "RUBYLIB" => File.join(root, "lib"), "UNICORN_PID" => pid_file, "COUNTER_NAME" => prefix },
        "unicorn", "-c", File.join(root, "examples/unicorn_reexec/unicorn.rb"),
        "-l", "127.0.0.1:#{port}", File.join(root, "examples/unicorn_reexec/config.ru"),
        out: log, err: log, pgroup: true
      )
      second = nil
      begin
        get = ->(path) { JSON.parse(Net::HTTP.get(URI("http://127.0.0.1:#{port}#{path}"))) }
        eventually("unicorn did not answer", log) { get.call("/stats") rescue nil } # rubocop:disable Style/RescueModifier
        stop_clients = false
        masters = Queue.new
        sent = Queue.new
        clients = Array.new(client_threads) do
          Thread.new do
            Net::HTTP.start("127.0.0.1", port, read_timeout: 30) do |http|
              until stop_clients
                response = http.get("/hit")
                masters << JSON.parse(response.body)["master"] if response.code == "200"
                sent << response.code
              end
            end
          end
        end
        eventually("no request was served", log) { sent.size >= 50 }
        old_master = first
        Process.kill(:USR2, first)
        second = eventually("no new master", log) { (pid = read_pid(pid_file)) && pid != first && pid }
        seen = []
        eventually("the new master's workers served nothing", log) do
          seen << masters.pop until masters.empty?
          seen.include?(second)
        end
        Process.kill(:QUIT, first)
        eventually("the old master did not leave", log) { Process.waitpid(first, Process::WNOHANG) }
        first = nil
        served_after = sent.size
        eventually("the new master alone served nothing", log) { sent.size >= served_after + 50 }
        stop_clients = true
        clients.each(&:join)
        seen << masters.pop until masters.empty?

        codes = Array.new(sent.size) { sent.pop }
        expect(codes.uniq).to eq(["200"])
        expect(seen.uniq).to include(old_master, second)
        expect(get.call("/stats")["hits"]).to eq(codes.size)
      rescue RSpec::Expectations::ExpectationNotMetError, StandardError
        warn "unicorn log:\n#{File.read(log)}"
        raise
      ensure
        stop(first)
        stop(second)
        ProcessShared::SharedArray.unlink("#{prefix}.hits")
        ProcessShared::Mutex.unlink("#{prefix}.lock")
      end
    end
  end
end
