# frozen_string_literal: true

require "timeout"
require "tmpdir"
require "process_shared"

# Helpers for specs that fork. Every child ends with `exit!` (no at_exit
# handlers, no RSpec reporting from the child), every child is reaped, and
# every wait has a deadline, so a deadlock fails the example instead of
# hanging the run.
module ForkHelper
  # Seconds a single child may run before it is killed and the example fails.
  CHILD_DEADLINE = 30

  # Forks a child that runs the block and exits 0, or 1 if it raised (the
  # error is printed). Returns the pid; the child is reaped after the example
  # even if the example never waits for it.
  def fork_child
    pid = fork do
      status = 0
      begin
        yield
      rescue Exception => e # rubocop:disable Lint/RescueException
        warn "child #{Process.pid} failed: #{e.class}: #{e.message}\n  #{e.backtrace&.first(5)&.join("\n  ")}"
        status = 1
      end
      exit!(status)
    end
    forked_pids << pid
    pid
  end

  # Waits for a child, killing it and failing if it outlives the deadline.
  # Returns its Process::Status.
  def wait_child(pid, timeout: CHILD_DEADLINE)
    deadline = monotonic_now + timeout
    loop do
      reaped, status = Process.waitpid2(pid, Process::WNOHANG)
      if reaped
        forked_pids.delete(pid)
        return status
      end
      if monotonic_now > deadline
        Process.kill(:KILL, pid)
        Process.waitpid(pid)
        forked_pids.delete(pid)
        raise "child #{pid} did not finish within #{timeout}s (killed)"
      end
      sleep 0.005
    end
  end

  # Waits for every child and expects each to have exited 0.
  def expect_children_to_succeed(pids, timeout: CHILD_DEADLINE)
    statuses = pids.map { |pid| wait_child(pid, timeout:) }
    expect(statuses.map(&:exitstatus)).to all(eq(0))
  end

  def forked_pids
    @forked_pids ||= []
  end

  def reap_forked_children
    forked_pids.each do |pid|
      Process.kill(:KILL, pid)
    rescue Errno::ESRCH
      nil
    ensure
      begin
        Process.waitpid(pid)
      rescue Errno::ECHILD
        nil
      end
    end
    forked_pids.clear
  end

  def monotonic_now
    Process.clock_gettime(Process::CLOCK_MONOTONIC)
  end
end

# Running other programs (gem, ruby) from specs, with a deadline.
module CommandHelper
  # Runs a command and returns its output (stdout and stderr together);
  # raises with the output when it fails or outlives `timeout` seconds, in
  # which case its whole process group is killed.
  def run_command(env, *command, chdir:, timeout: 90)
    output = File.join(Dir.tmpdir, "process_shared-command-#{Process.pid}-#{rand(2**64)}.log")
    pid = Process.spawn(env, *command, chdir:, out: output, err: %i[child out], in: File::NULL, pgroup: true)
    deadline = monotonic_now + timeout
    until (status = Process.wait2(pid, Process::WNOHANG)&.last)
      if monotonic_now > deadline
        Process.kill(:KILL, -pid)
        Process.wait(pid)
        raise "#{command.join(' ')} ran longer than #{timeout}s:\n#{File.read(output)}"
      end
      sleep 0.05
    end
    text = File.read(output)
    raise "#{command.join(' ')} failed (#{status.inspect}):\n#{text}" unless status.success?

    text
  ensure
    File.delete(output) if output && File.exist?(output)
  end
end

RSpec.configure do |config|
  config.include ForkHelper
  config.include CommandHelper
  config.disable_monkey_patching!
  config.order = :random
  Kernel.srand config.seed

  # No example may hang CI: a deadlock fails after this many seconds, or
  # after its own `deadline:` (metadata) where that is longer: an example
  # that compiles the crate on a loaded 2-core machine.
  example_deadline = Integer(ENV.fetch("PROCESS_SHARED_EXAMPLE_DEADLINE", "120"))
  config.around do |example|
    Timeout.timeout([example_deadline, example.metadata.fetch(:deadline, 0)].max) { example.run }
  ensure
    reap_forked_children
  end
end
