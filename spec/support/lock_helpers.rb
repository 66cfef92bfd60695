# frozen_string_literal: true

# Helpers and shared examples for the lock specs.
module LockHelpers
  # Waits until `thread` is blocked (status "sleep"), then a little longer so
  # that it is inside the wait rather than between two wait slices.
  def wait_until_blocked(thread, timeout: 10)
    deadline = monotonic_now + timeout
    until thread.status == "sleep"
      raise "thread did not block within #{timeout}s (status #{thread.status.inspect})" if monotonic_now > deadline
      raise "thread ended instead of blocking" unless thread.alive?

      sleep 0.005
    end
    sleep 0.05
  end

  # A thread that runs the block with exception reports off (the specs
  # expect its exceptions through #join).
  def quiet_thread(&block)
    Thread.new do
      Thread.current.report_on_exception = false
      block.call
    end
  end

  # Polls (with a deadline) until the block returns true.
  def eventually(timeout: 10, message: "condition not met")
    deadline = monotonic_now + timeout
    until yield
      raise "#{message} within #{timeout}s" if monotonic_now > deadline

      sleep 0.005
    end
  end
end

RSpec.configure { |config| config.include LockHelpers }

# `critical_section` must be a callable that runs its block under the lock.
RSpec.shared_examples "an exclusive lock across processes and threads" do
  it "lets 8 processes of 2 threads each increment a shared counter without losing an update" do
    increments = 150
    section = critical_section
    counter = ProcessShared::SharedMemory.new(:int)
    pids = Array.new(8) do
      fork_child do
        threads = Array.new(2) do
          Thread.new do
            increments.times do
              section.call do
                value = counter.get_int(0)
                Thread.pass # invite the other thread to interleave
                counter.put_int(0, value + 1)
              end
            end
          end
        end
        threads.each(&:join)
      end
    end
    expect_children_to_succeed(pids, timeout: 90)
    expect(counter.get_int(0)).to eq(8 * 2 * increments)
  end
end
