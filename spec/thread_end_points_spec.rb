# frozen_string_literal: true

require "spec_helper"
require "support/lock_helpers"

# A thread can end only where Ruby code runs: while it holds (between a take
# and its release, in any of the ways a thread ends), or while it is blocked
# in a wait (Thread#kill, Thread#raise). Inside an operation, between two
# writes to shared memory, native code holds the GVL and no other thread, no
# Thread#kill and no thread end can get in; what a *process* dying there
# leaves behind is checked by the core's named-step kill tests (cargo test,
# ext/process_shared/src/core/kill_steps/). Here: every point a thread end
# can reach, for every primitive that gives back what an ended thread held,
# with the exact state afterwards and another process served at once.
RSpec.describe "threads that end at every point Ruby reaches" do
  kinds = {
    "an undo Semaphore" => {
      make: -> { ProcessShared::Semaphore.new(2, undo: true) },
      take: ->(sem) { sem.wait },
      # Makes a take block: the main thread holds every unit.
      occupy: ->(sem) { 2.times { sem.wait } },
      vacate: ->(sem) { 2.times { sem.post } },
      whole: ->(sem) { [sem.value, sem.holders, sem.waiting] },
      as_new: [2, [], 0],
      elsewhere: ->(sem) { Array.new(2) { sem.try_wait(1) }.all? && sem.post && sem.post }
    },
    "a ReadWriteLock read hold" => {
      make: -> { ProcessShared::ReadWriteLock.new },
      take: ->(lock) { lock.acquire_read_lock },
      occupy: ->(lock) { lock.acquire_write_lock },
      vacate: ->(lock) { lock.release_write_lock },
      whole: ->(lock) { [lock.write_locked?, lock.waiting] },
      as_new: [false, 0],
      elsewhere: ->(lock) { lock.try_write_lock(1) && lock.release_write_lock }
    },
    "a ReadWriteLock write hold" => {
      make: -> { ProcessShared::ReadWriteLock.new },
      take: ->(lock) { lock.acquire_write_lock },
      occupy: ->(lock) { lock.acquire_read_lock },
      vacate: ->(lock) { lock.release_read_lock },
      whole: ->(lock) { [lock.write_locked?, lock.waiting] },
      as_new: [false, 0],
      elsewhere: ->(lock) { lock.try_write_lock(1) && lock.release_write_lock }
    },
    "a Mutex" => {
      make: -> { ProcessShared::Mutex.new },
      take: ->(mutex) { mutex.lock },
      occupy: ->(mutex) { mutex.lock },
      vacate: ->(mutex) { mutex.unlock },
      whole: ->(mutex) { [mutex.locked?, mutex.waiting] },
      as_new: [false, 0],
      elsewhere: ->(mutex) { mutex.try_lock(1) && mutex.unlock }
    },
    "a Monitor" => {
      make: -> { ProcessShared::Monitor.new },
      take: ->(monitor) { monitor.enter },
      occupy: ->(monitor) { monitor.enter },
      vacate: ->(monitor) { monitor.exit },
      whole: ->(monitor) { [monitor.mon_locked?, monitor.waiting] },
      as_new: [false, 0],
      elsewhere: ->(monitor) { monitor.try_enter(1) && monitor.exit.nil? }
    }
  }

  # Ways a thread that holds ends.
  endings = {
    "returns" => ->(_take) {},
    "raises" => ->(_take) { raise "boom" },
    "calls Thread#exit" => ->(_take) { Thread.current.exit },
    "holds from a suspended fiber" => lambda { |take|
      Fiber.new do
        take.call
        Fiber.yield
      end.resume
    }
  }

  # Another process takes it (all of it) at once, and gives it back.
  def expect_served_elsewhere(object, spec)
    pid = fork_child { exit!(spec[:elsewhere].call(object) ? 0 : 1) }
    expect(wait_child(pid).exitstatus).to eq(0)
  end

  kinds.each do |kind, spec|
    describe kind do
      let(:object) { spec[:make].call }

      endings.each do |how, ending|
        it "is whole again when a thread holding it #{how}" do
          take = -> { spec[:take].call(object) }
          thread = quiet_thread do
            take.call unless how.include?("fiber")
            ending.call(take)
          end
          thread.join(10) rescue nil # rubocop:disable Style/RescueModifier
          expect(thread.alive?).to be(false)
          expect(spec[:whole].call(object)).to eq(spec[:as_new])
          expect_served_elsewhere(object, spec)
        end
      end

      it "is whole again when a thread holding it is killed" do
        held = Thread::Queue.new
        thread = Thread.new do
          spec[:take].call(object)
          held << true
          sleep
        end
        held.pop
        thread.kill.join(10)
        expect(spec[:whole].call(object)).to eq(spec[:as_new])
        expect_served_elsewhere(object, spec)
      end

      { "killed" => ->(thread) { thread.kill }, "raised into" => ->(thread) { thread.raise("stop") } }
        .each do |how, stop|
        it "takes nothing and counts no waiter when a thread blocked in its wait is #{how}" do
          spec[:occupy].call(object)
          waiter = quiet_thread { spec[:take].call(object) }
          wait_until_blocked(waiter)
          expect(object.waiting).to eq(1)
          stop.call(waiter)
          waiter.join(10) rescue nil # rubocop:disable Style/RescueModifier
          expect(waiter.alive?).to be(false)
          expect(object.waiting).to eq(0)
          spec[:vacate].call(object)
          expect(spec[:whole].call(object)).to eq(spec[:as_new])
          expect_served_elsewhere(object, spec)
        end
      end
    end
  end
end
