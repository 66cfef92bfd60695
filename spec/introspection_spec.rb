# frozen_string_literal: true

require "spec_helper"
require_relative "support/lock_helpers"

# owner_pid, waiting and inspect: what a lock's state is, for debugging.
RSpec.describe "introspection" do
  # Starts `count` threads that block in `wait` and returns them, once
  # `object.waiting` counts them (with `extra` waiters elsewhere).
  def blocked_threads(object, count, extra: 0, &wait)
    threads = Array.new(count) { quiet_thread(&wait) }
    eventually(message: "#{count + extra} waiters") { object.waiting == count + extra }
    threads
  end

  describe ProcessShared::Mutex do
    let(:mutex) { described_class.new }

    it "tells the holder's pid, nil when free" do
      expect(mutex.owner_pid).to be_nil
      mutex.lock
      expect(mutex.owner_pid).to eq(Process.pid)
      mutex.unlock
      held = ProcessShared::Semaphore.new(0)
      done = ProcessShared::Semaphore.new(0)
      pid = fork_child do
        mutex.lock
        held.post
        done.wait
        mutex.unlock
      end
      held.wait
      expect(mutex.owner_pid).to eq(pid)
      done.post
      expect(wait_child(pid).exitstatus).to eq(0)
      expect(mutex.owner_pid).to be_nil
    end

    it "counts the threads of every process that wait for it, and shows it all in inspect" do
      expect(mutex.inspect).to eq("#<ProcessShared::Mutex unlocked>")
      mutex.lock
      ready = ProcessShared::Semaphore.new(0)
      pid = fork_child do
        ready.post
        mutex.lock
        mutex.unlock
      end
      ready.wait
      eventually { mutex.waiting == 1 }
      threads = blocked_threads(mutex, 2, extra: 1) { mutex.synchronize { nil } }
      expect(mutex.waiting).to eq(3)
      expect(mutex.inspect).to eq("#<ProcessShared::Mutex locked by #{Process.pid}, 3 waiting>")
      mutex.unlock
      threads.each { |thread| thread.join(10) }
      expect(wait_child(pid).exitstatus).to eq(0)
      expect(mutex.waiting).to eq(0)
    end
  end

  describe ProcessShared::Monitor do
    it "tells the owner's pid and its waiters" do
      monitor = described_class.new
      expect(monitor.owner_pid).to be_nil
      expect(monitor.inspect).to eq("#<ProcessShared::Monitor unlocked>")
      monitor.enter
      monitor.enter
      expect(monitor.owner_pid).to eq(Process.pid)
      threads = blocked_threads(monitor, 1) { monitor.synchronize { nil } }
      expect(monitor.inspect).to eq("#<ProcessShared::Monitor locked by #{Process.pid}, 1 waiting>")
      2.times { monitor.exit }
      threads.each { |thread| thread.join(10) }
      expect(monitor.waiting).to eq(0)
    end
  end

  describe ProcessShared::Semaphore do
    it "counts its waiters and shows its value" do
      semaphore = described_class.new(0)
      expect(semaphore.inspect).to eq("#<ProcessShared::Semaphore value 0, 0 waiting>")
      threads = blocked_threads(semaphore, 2) { semaphore.wait }
      expect(semaphore.inspect).to eq("#<ProcessShared::Semaphore value 0, 2 waiting>")
      2.times { semaphore.post }
      threads.each { |thread| thread.join(10) }
      expect(semaphore.waiting).to eq(0)
      semaphore.post
      expect(semaphore.inspect).to eq("#<ProcessShared::Semaphore value 1, 0 waiting>")
    end
  end

  describe ProcessShared::ConditionVariable do
    it "counts its waiters" do
      condition = described_class.new
      mutex = ProcessShared::Mutex.new
      expect(condition.waiting).to eq(0)
      threads = blocked_threads(condition, 2) { mutex.synchronize { condition.wait(mutex) } }
      expect(condition.inspect).to eq("#<ProcessShared::ConditionVariable 2 waiting>")
      eventually { mutex.synchronize { condition.broadcast } || threads.none?(&:alive?) }
      threads.each { |thread| thread.join(10) }
      expect(condition.waiting).to eq(0)
    end
  end

  # A waiter SIGKILLed in its wait must stop being counted: `waiting` says
  # who waits now, and a dead process waits for nothing.
  describe "a waiter killed while it waits" do
    # Forks a child that blocks in `wait`, checks that `waiting` (by
    # default `object.waiting`) counts it, SIGKILLs it, and expects
    # `waiting` back at 0 within a few seconds (polled).
    def expect_uncounted_after_kill(object, waiting: -> { object.waiting }, &wait)
      pid = fork_child(&wait)
      eventually(message: "the child counted as waiting") { waiting.call == 1 }
      Process.kill(:KILL, pid)
      expect(wait_child(pid).termsig).to eq(Signal.list.fetch("KILL"))
      eventually(timeout: 5, message: "waiting back at 0 after the kill") { waiting.call.zero? }
      expect(waiting.call).to eq(0)
    end

    it "is no longer counted by a Mutex" do
      mutex = ProcessShared::Mutex.new
      mutex.lock
      expect_uncounted_after_kill(mutex) { mutex.lock }
      expect(mutex.inspect).to eq("#<ProcessShared::Mutex locked by #{Process.pid}, 0 waiting>")
      mutex.unlock
    end

    it "is no longer counted by a Monitor" do
      monitor = ProcessShared::Monitor.new
      monitor.enter
      expect_uncounted_after_kill(monitor) { monitor.enter }
      monitor.exit
    end

    it "is no longer counted by a Semaphore" do
      semaphore = ProcessShared::Semaphore.new(0)
      expect_uncounted_after_kill(semaphore) { semaphore.wait }
      expect(semaphore.inspect).to eq("#<ProcessShared::Semaphore value 0, 0 waiting>")
    end

    it "is no longer counted by a Semaphore with undo: true" do
      semaphore = ProcessShared::Semaphore.new(0, undo: true)
      expect_uncounted_after_kill(semaphore) { semaphore.wait }
    end

    it "is no longer counted by a ConditionVariable" do
      condition = ProcessShared::ConditionVariable.new
      mutex = ProcessShared::Mutex.new
      expect_uncounted_after_kill(condition) { mutex.synchronize { condition.wait(mutex) } }
      expect(mutex.try_lock).to be true
    end

    it "is no longer counted by a ReadWriteLock" do
      lock = ProcessShared::ReadWriteLock.new
      lock.acquire_write_lock
      expect_uncounted_after_kill(lock) { lock.acquire_read_lock }
      expect(lock.has_waiters?).to be false
      lock.release_write_lock
    end

    it "is no longer counted by a Queue" do
      queue = ProcessShared::Queue.new
      expect_uncounted_after_kill(queue) { queue.pop }
      expect(queue.num_waiting).to eq(0)
    end

    it "is no longer counted in a BinarySemaphore's inspect" do
      semaphore = ProcessShared::BinarySemaphore.new(0)
      in_inspect = -> { Integer(semaphore.inspect[/(\d+) waiting/, 1]) }
      expect_uncounted_after_kill(semaphore, waiting: in_inspect) { semaphore.wait }
    end
  end

  describe "inspect of every class" do
    let(:objects) do
      memory = ProcessShared::SharedMemory.new(:int32, 4)
      {
        ProcessShared::Semaphore => ProcessShared::Semaphore.new(2),
        ProcessShared::BinarySemaphore => ProcessShared::BinarySemaphore.new(1),
        ProcessShared::Mutex => ProcessShared::Mutex.new,
        ProcessShared::ConditionVariable => ProcessShared::ConditionVariable.new,
        ProcessShared::Monitor => ProcessShared::Monitor.new,
        ProcessShared::SharedMemory => memory,
        ProcessShared::SharedArray => ProcessShared::SharedArray.new(:int32, 4),
        ProcessShared::SharedMemoryIO => ProcessShared::SharedMemoryIO.new(memory)
      }
    end

    it "shows the class and never raises, open, closed or never initialized" do
      objects.each do |klass, object|
        expect(object.inspect).to start_with("#<#{klass.name} ")
        object.close
        expect(object.inspect).to eq("#<#{klass.name} closed>")
        expect(klass.allocate.inspect).to start_with("#<#{klass.name}")
      end
    end

    it "shows a semaphore-backed mutex's state" do
      facade = ProcessShared::Semaphore.new(1).to_mtx
      expect(facade.inspect).to match(/unlocked/)
      facade.lock
      expect(facade.inspect).to match(/locked/)
    end
  end
end
