# frozen_string_literal: true

require "socket"
require "timeout"

# Starting and stopping the servers of the integration specs (Puma,
# Unicorn) on 127.0.0.1, each with a deadline.
module ServerHelpers
  # A TCP port on 127.0.0.1 that nothing listens on right now.
  def free_port
    server = TCPServer.new("127.0.0.1", 0)
    server.addr[1]
  ensure
    server&.close
  end

  # Returns once `port` accepts connections; raises with the server's log if
  # the server (our child `pid`) exits first or `deadline` seconds pass.
  def wait_until_listening(port, pid, log, deadline: 30)
    give_up = monotonic_now + deadline
    loop do
      TCPSocket.new("127.0.0.1", port).close
      return
    rescue Errno::ECONNREFUSED, Errno::ECONNRESET
      raise "server exited early:\n#{File.read(log)}" if Process.waitpid(pid, Process::WNOHANG)
      raise "server did not listen within #{deadline}s:\n#{File.read(log)}" if monotonic_now > give_up

      sleep 0.1
    end
  end

  # Ends a server spawned with `pgroup: true` and reaps it: TERM, then its
  # whole process group is killed if it outlives 30 seconds.
  def stop_server(pid)
    Process.kill(:TERM, pid)
    Timeout.timeout(30) { Process.waitpid(pid) }
  rescue Errno::ESRCH, Errno::ECHILD
    nil
  rescue Timeout::Error
    Process.kill(:KILL, -pid)
    Process.waitpid(pid)
  end
end
