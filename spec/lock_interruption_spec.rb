# frozen_string_literal: true

require_relative "support/lock_helpers"

# Every kind of interruption, on every kind of blocked lock or wait: the
# interruption arrives promptly and leaves the primitive as it was.
class Interruption < StandardError; end

RSpec.describe "Interrupting a blocked lock or wait" do
  let!(:mutex) { ProcessShared::Mutex.new }
  let!(:monitor) { ProcessShared::Monitor.new }
  let!(:cond) { ProcessShared::ConditionVariable.new }
  let!(:monitor_cond) { monitor.new_cond }
  let!(:binary) { ProcessShared::BinarySemaphore.new(0) }
  # What the interrupted code saw: 1 = it (wrongly) acquired the lock, or
  # (for waits) it held the mutex on its way out; 2 = it did not hold it.
  let!(:seen) { ProcessShared::SharedMemory.new(:int) }

  # Holds a lock in a child process until the returned lambda is called.
  def hold_in_child(enter, leave)
    held = ProcessShared::Semaphore.new(0)
    release = ProcessShared::Semaphore.new(0)
    pid = fork_child do
      enter.call
      held.post
      release.wait
      leave.call
    end
    held.wait
    lambda do
      release.post
      expect_children_to_succeed([pid])
    end
  end

  def record_ownership(owned)
    seen.put_int(0, owned ? 1 : 2)
  end

  cases = {
    "Mutex#lock" => {
      arrange: -> { hold_in_child(-> { mutex.lock }, -> { mutex.unlock }) },
      blocked: lambda do
        mutex.lock
        seen.put_int(0, 1)
      end,
      verify: lambda do |release|
        release.call
        expect(seen.get_int(0)).to eq(0)
        expect(mutex).not_to be_locked
        expect(mutex.try_lock).to be true
        mutex.unlock
      end
    },
    "Monitor#enter" => {
      arrange: -> { hold_in_child(-> { monitor.enter }, -> { monitor.exit }) },
      blocked: lambda do
        monitor.enter
        seen.put_int(0, 1)
      end,
      verify: lambda do |release|
        release.call
        expect(seen.get_int(0)).to eq(0)
        expect(monitor).not_to be_mon_locked
        expect(monitor.try_enter).to be true
        monitor.exit
      end
    },
    "BinarySemaphore#wait" => {
      arrange: -> { -> {} },
      blocked: lambda do
        binary.wait
        seen.put_int(0, 1)
      end,
      verify: lambda do |_release|
        expect(seen.get_int(0)).to eq(0)
        expect(binary.value).to eq(0)
        binary.post
        expect(binary.value).to eq(1)
      end
    },
    "ConditionVariable#wait" => {
      arrange: -> { -> {} },
      blocked: lambda do
        mutex.synchronize do
          cond.wait(mutex)
        ensure
          record_ownership(mutex.owned?)
        end
      end,
      verify: lambda do |_release|
        expect(seen.get_int(0)).to eq(1)
        expect(mutex).not_to be_locked
        expect(mutex.synchronize { cond.wait(mutex, 0.01) }).to be_nil
      end
    },
    "MonitorMixin::ConditionVariable#wait" => {
      arrange: -> { -> {} },
      blocked: lambda do
        monitor.synchronize do
          monitor.synchronize do
            monitor_cond.wait
          ensure
            record_ownership(monitor.mon_owned?)
          end
        end
      end,
      verify: lambda do |_release|
        expect(seen.get_int(0)).to eq(1)
        expect(monitor).not_to be_mon_locked
      end
    }
  }

  cases.each do |name, steps|
    describe name do
      it "raises the exception of Thread#raise and leaves the state intact" do
        release = instance_exec(&steps[:arrange])
        thread = quiet_thread { instance_exec(&steps[:blocked]) }
        wait_until_blocked(thread)
        thread.raise(Interruption)
        expect { thread.join(10) }.to raise_error(Interruption)
        instance_exec(release, &steps[:verify])
      end

      it "ends with Thread#kill and leaves the state intact" do
        release = instance_exec(&steps[:arrange])
        thread = quiet_thread { instance_exec(&steps[:blocked]) }
        wait_until_blocked(thread)
        thread.kill
        expect(thread.join(10)).to eq(thread)
        expect(thread).not_to be_alive
        instance_exec(release, &steps[:verify])
      end

      it "is ended by Timeout.timeout and leaves the state intact" do
        release = instance_exec(&steps[:arrange])
        start = monotonic_now
        expect { Timeout.timeout(0.3) { instance_exec(&steps[:blocked]) } }.to raise_error(Timeout::Error)
        expect(monotonic_now - start).to be_between(0.29, 5)
        instance_exec(release, &steps[:verify])
      end

      it "raises Interrupt on SIGINT in a forked child and leaves the state intact" do
        release = instance_exec(&steps[:arrange])
        ready = ProcessShared::Semaphore.new(0)
        blocked = steps[:blocked]
        pid = fork_child do
          trap("INT", "DEFAULT")
          ready.post
          instance_exec(&blocked)
          raise "the wait was not interrupted"
        rescue Interrupt
          nil
        end
        ready.wait
        sleep 0.3
        Process.kill(:INT, pid)
        expect_children_to_succeed([pid], timeout: 10)
        instance_exec(release, &steps[:verify])
      end
    end
  end

  describe "a condition wait interrupted while another process holds the mutex" do
    it "raises only once it holds the mutex again (Thread#raise)" do
      waiter = quiet_thread do
        mutex.synchronize do
          cond.wait(mutex)
        rescue Interruption
          record_ownership(mutex.owned?)
        end
      end
      wait_until_blocked(waiter)
      release = hold_in_child(-> { mutex.lock }, -> { mutex.unlock })
      waiter.raise(Interruption)
      sleep 0.3
      expect(waiter).to be_alive
      release.call
      expect(waiter.join(10)).to eq(waiter)
      expect(seen.get_int(0)).to eq(1)
      expect(mutex).not_to be_locked
    end

    it "ends only once it holds the mutex again (Thread#kill)" do
      waiter = quiet_thread do
        mutex.synchronize do
          cond.wait(mutex)
        ensure
          record_ownership(mutex.owned?)
        end
      end
      wait_until_blocked(waiter)
      release = hold_in_child(-> { mutex.lock }, -> { mutex.unlock })
      waiter.kill
      sleep 0.3
      expect(waiter).to be_alive
      release.call
      expect(waiter.join(10)).to eq(waiter)
      expect(seen.get_int(0)).to eq(1)
      expect(mutex).not_to be_locked
    end
  end
end
