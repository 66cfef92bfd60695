# frozen_string_literal: true

require_relative "support/lock_helpers"

RSpec.describe ProcessShared::Mutex do
  subject!(:mutex) { described_class.new }

  it_behaves_like "an exclusive lock across processes and threads" do
    let(:critical_section) { mutex.method(:synchronize) }
  end

  describe "like Thread::Mutex in one thread" do
    it "locks and unlocks, returning self" do
      expect(mutex.lock).to equal(mutex)
      expect(mutex).to be_locked
      expect(mutex).to be_owned
      expect(mutex.unlock).to equal(mutex)
      expect(mutex).not_to be_locked
      expect(mutex).not_to be_owned
    end

    it "raises ProcessError, a ThreadError, when locked again by its owner, and stays locked once" do
      mutex.lock
      expect { mutex.lock }.to raise_error(ProcessShared::ProcessError, /recursive locking/)
      expect { mutex.lock }.to raise_error(ThreadError)
      mutex.unlock
      expect(mutex).not_to be_locked
    end

    it "raises ProcessError when unlocking a mutex that is not locked" do
      expect { mutex.unlock }.to raise_error(ProcessShared::ProcessError, /not locked/)
    end

    it "try_lock takes a free lock and is false when held, also by the caller" do
      expect(mutex.try_lock).to be true
      expect(mutex.try_lock).to be false
      mutex.unlock
    end

    it "synchronize returns the block's value and unlocks when the block raises" do
      expect(mutex.synchronize { :value }).to eq(:value)
      expect { mutex.synchronize { raise ArgumentError, "inside" } }.to raise_error(ArgumentError, "inside")
      expect(mutex).not_to be_locked
      expect { mutex.synchronize }.to raise_error(ThreadError, /block/)
    end

    it "synchronize raises ProcessError when the caller already holds it" do
      mutex.synchronize do
        expect { mutex.synchronize { nil } }.to raise_error(ProcessShared::ProcessError)
        expect(mutex).to be_owned
      end
    end

    it "rejects bad timeouts" do
      expect { mutex.try_lock(-1) }.to raise_error(ArgumentError)
      expect { mutex.try_lock("1") }.to raise_error(TypeError)
      expect(mutex).not_to be_locked
    end

    it "is open, closes idempotently and then raises ClosedError" do
      expect(mutex).not_to be_closed
      mutex.close
      mutex.close
      expect(mutex).to be_closed
      expect { mutex.lock }.to raise_error(ProcessShared::ClosedError)
      expect { mutex.locked? }.to raise_error(ProcessShared::ClosedError)
    end

    it "releases a lock its caller holds when closed, so other processes are not stuck" do
      copy = mutex.dup
      mutex.lock
      mutex.close
      expect(copy).not_to be_locked
    end

    it "open yields the mutex and closes it" do
      outside = described_class.open do |m|
        expect(m.synchronize { 1 }).to eq(1)
        m
      end
      expect(outside).to be_closed
    end
  end

  describe "owners across threads and processes" do
    it "belongs to one thread: another thread of the same process cannot unlock it and contends for it" do
      mutex.lock
      other = Thread.new do
        unlock_error = begin
          mutex.unlock
        rescue ProcessShared::ProcessError => e
          e
        end
        [mutex.owned?, mutex.locked?, mutex.try_lock, unlock_error]
      end.value
      expect(other[0..2]).to eq([false, true, false])
      expect(other[3]).to be_a(ProcessShared::ProcessError).and(have_attributes(message: /another thread or process/))
      expect(mutex).to be_owned
      mutex.unlock
    end

    it "makes another thread wait until the owner unlocks" do
      mutex.lock
      waiter = Thread.new { mutex.synchronize { mutex.owned? } }
      wait_until_blocked(waiter)
      expect(waiter).to be_alive
      mutex.unlock
      expect(waiter.value).to be true
    end

    it "cannot be unlocked, or locked, by a child while the parent holds it" do
      mutex.lock
      pid = fork_child do
        raise "child owns the parent's lock" if mutex.owned?
        raise "child does not see the lock" unless mutex.locked?
        raise "child took a held lock" if mutex.try_lock

        begin
          mutex.unlock
          raise "child unlocked the parent's lock"
        rescue ProcessShared::ProcessError
          nil
        end
      end
      expect_children_to_succeed([pid])
      expect(mutex).to be_owned
      mutex.unlock
    end

    it "cannot be unlocked by the parent while a child holds it" do
      locked = ProcessShared::Semaphore.new(0)
      release = ProcessShared::Semaphore.new(0)
      pid = fork_child do
        mutex.lock
        locked.post
        release.wait
        mutex.unlock
      end
      locked.wait
      expect(mutex).to be_locked
      expect(mutex).not_to be_owned
      expect { mutex.unlock }.to raise_error(ProcessShared::ProcessError, /another thread or process/)
      expect(mutex.try_lock).to be false
      release.post
      expect_children_to_succeed([pid])
      expect(mutex.try_lock).to be true
      mutex.unlock
    end

    it "is owned, when a child takes it, by the child's locking thread only" do
      pid = fork_child do
        mutex.lock
        raise "the child's thread does not own it" unless mutex.owned?

        other = Thread.new do
          raise "another thread of the child owns it" if mutex.owned?

          mutex.unlock
          :unlocked
        rescue ProcessShared::ProcessError
          :refused
        end
        raise "another thread of the child unlocked it" unless other.value == :refused

        mutex.unlock
      end
      expect_children_to_succeed([pid])
      expect(mutex).not_to be_locked
    end

    it "is not owned by the child of a fork made while holding it" do
      mutex.synchronize do
        pid = fork_child { raise "inherited ownership" if mutex.owned? }
        expect_children_to_succeed([pid])
      end
    end
  end

  describe "#try_lock(timeout)" do
    it "waits for a lock released meanwhile by another process" do
      locked = ProcessShared::Semaphore.new(0)
      pid = fork_child do
        mutex.lock
        locked.post
        sleep 0.2
        mutex.unlock
      end
      locked.wait
      expect(mutex.try_lock(10)).to be true
      mutex.unlock
      expect_children_to_succeed([pid])
    end

    it "gives up after the timeout, on the monotonic clock, leaving the lock to its holder" do
      mutex.lock
      result, elapsed = Thread.new do
        start = monotonic_now
        [mutex.try_lock(0.3), monotonic_now - start]
      end.value
      expect(result).to be false
      expect(elapsed).to be_between(0.29, 2.0)
      expect(mutex).to be_owned
      mutex.unlock
    end
  end

  describe "#sleep" do
    it "returns nil after the timeout, holding the lock again" do
      mutex.lock
      start = monotonic_now
      expect(mutex.sleep(0.2)).to be_nil
      expect(monotonic_now - start).to be >= 0.19
      expect(mutex).to be_owned
      mutex.unlock
    end

    it "returns an Integer when woken by Thread#wakeup, holding the lock again" do
      sleeper = Thread.new { mutex.synchronize { [mutex.sleep, mutex.owned?] } }
      wait_until_blocked(sleeper)
      expect(mutex).not_to be_locked
      sleeper.wakeup
      slept, owned = sleeper.value
      expect(slept).to be_an(Integer)
      expect(owned).to be true
    end

    it "treats a timeout too long for Kernel#sleep as no timeout, as every other wait does" do
      [1e19, 1e20, 2**64, Float::INFINITY].each do |timeout|
        sleeper = Thread.new { mutex.synchronize { mutex.sleep(timeout) } }
        wait_until_blocked(sleeper)
        expect(mutex).not_to be_locked
        sleeper.wakeup
        expect(sleeper.value).to be_an(Integer)
      end
    end

    it "releases the lock meanwhile: another process can take it" do
      took = ProcessShared::SharedMemory.new(:int)
      mutex.synchronize do
        pid = fork_child { mutex.synchronize { took.put_int(0, 1) } }
        mutex.sleep(0.1) while took.get_int(0).zero?
        expect(mutex).to be_owned
        expect_children_to_succeed([pid])
      end
    end

    it "raises ProcessError unless the caller holds the lock" do
      expect { mutex.sleep(0.01) }.to raise_error(ProcessShared::ProcessError)
      mutex.lock
      expect { quiet_thread { mutex.sleep(0.01) }.join }.to raise_error(ProcessShared::ProcessError)
      mutex.unlock
    end

    it "holds the lock again when an exception interrupts it, even while another thread holds it" do
      sleeper = quiet_thread do
        mutex.synchronize do
          mutex.sleep
        rescue RuntimeError
          mutex.owned?
        end
      end
      wait_until_blocked(sleeper)
      mutex.lock
      sleeper.raise("interrupted")
      sleep 0.2
      expect(sleeper).to be_alive # waiting to lock again
      mutex.unlock
      expect(sleeper.value).to be true
      expect(mutex).not_to be_locked
    end
  end

  describe "when a waiter dies" do
    it "keeps working for everyone else" do
      mutex.lock
      waiting = ProcessShared::Semaphore.new(0)
      waiter = fork_child do
        waiting.post
        mutex.lock
      end
      waiting.wait
      sleep 0.2
      Process.kill(:KILL, waiter)
      wait_child(waiter)
      mutex.unlock
      pids = Array.new(2) { fork_child { 200.times { mutex.synchronize { nil } } } }
      expect_children_to_succeed(pids)
      expect(mutex).not_to be_locked
      expect(mutex.try_lock).to be true
      mutex.unlock
    end
  end

  describe "when the holder dies" do
    it "lets a waiting process take the lock within a second of a SIGKILL, and says so" do
      locked = ProcessShared::Semaphore.new(0)
      holder = fork_child do
        mutex.lock
        locked.post
        sleep
      end
      locked.wait
      waiter = Thread.new do
        mutex.synchronize { [monotonic_now, mutex.previous_owner_died?, mutex.owned?] }
      end
      wait_until_blocked(waiter)
      Process.kill(:KILL, holder)
      killed_at = monotonic_now
      wait_child(holder)
      acquired_at, died, owned = waiter.value
      expect(acquired_at - killed_at).to be < 1.0
      expect(died).to be true
      expect(owned).to be true
      mutex.lock
      expect(mutex.previous_owner_died?).to be false
      mutex.unlock
    end

    it "lets a later locker take it over, and try_lock too" do
      holder = fork_child { mutex.lock }
      expect_children_to_succeed([holder])
      expect(mutex).to be_locked
      expect(mutex.try_lock).to be true
      expect(mutex.previous_owner_died?).to be true
      mutex.unlock
    end

    it "never takes the lock from a live holder, however long it holds it" do
      locked = ProcessShared::Semaphore.new(0)
      release = ProcessShared::Semaphore.new(0)
      holder = fork_child do
        mutex.lock
        locked.post
        release.wait
        raise "lost the lock" unless mutex.owned?

        mutex.unlock
      end
      locked.wait
      expect(mutex.try_lock(1.5)).to be false
      release.post
      expect_children_to_succeed([holder])
    end
  end

  describe "the hand-off benchmarking knob" do
    it "is private, and the lock works as before with hand-offs off (children inherit it)" do
      expect(described_class.respond_to?(:hand_off=)).to be(false)
      mutex = described_class.new
      counter = ProcessShared::SharedMemory.new(:int64)
      pid = fork_child do
        raise "knob" unless described_class.send(:hand_off=, false) == false

        workers = Array.new(2) do
          fork_child { 2000.times { mutex.synchronize { counter.put_int64(0, counter.get_int64(0) + 1) } } }
        end
        expect_children_to_succeed(workers)
        raise "lost updates" unless counter.get_int64(0) == 4000
      end
      expect_children_to_succeed([pid])
    ensure
      counter&.close
      mutex&.close
    end
  end
end
