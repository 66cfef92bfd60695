# frozen_string_literal: true

require_relative "support/lock_helpers"
require_relative "support/latency_report"

# Every way of interrupting a thread, on every call that blocks: the
# interruption arrives promptly (the latency from sending it to the blocked
# code's ensure clause is measured; PROCESS_SHARED_TIMINGS=1 prints it), and
# afterwards the primitive is exactly as it was.
module InterruptMatrix
  # What Thread#raise sends.
  class Raised < StandardError; end
  # What the SIGTERM trap raises.
  class Trapped < StandardError; end

  # How a forked child's wait ended (report[2]; 0 while it waits).
  INTERRUPTED = 1.0
  COMPLETED = 2.0
end

RSpec.describe "The interrupt matrix" do
  let!(:sem) { ProcessShared::Semaphore.new(0) }
  let!(:binary) { ProcessShared::BinarySemaphore.new(0) }
  let!(:mutex) { ProcessShared::Mutex.new }
  let!(:monitor) { ProcessShared::Monitor.new }
  let!(:cond) { ProcessShared::ConditionVariable.new }
  let!(:mixin) { Object.new.extend(ProcessShared::MonitorMixin) }
  let!(:mixin_cond) { mixin.new_cond }
  let!(:queue) { ProcessShared::Queue.new(bytes: 4096) }
  let!(:full) { ProcessShared::SizedQueue.new(1).push(:first) }
  let!(:latch) { ProcessShared::CountDownLatch.new(1) }
  let!(:event) { ProcessShared::Event.new }
  let!(:undo) { ProcessShared::Semaphore.new(1, undo: true) }
  let!(:rwlock) { ProcessShared::ReadWriteLock.new }
  # What the interrupted code saw: [time its ensure clause ran, 1 if the
  # primitive was intact there, how the wait ended (in forked children)].
  let!(:report) { ProcessShared::SharedArray.new(:double, 3) }

  # For each blocking call: the lock another process holds while it blocks
  # (`hold`, and `unhold`, which checks the holder still holds it exactly),
  # the call, whether the primitive is intact as seen by the interrupted
  # thread, its clean-up, what ends the wait normally, and the checks after
  # the interruption (given the lambda that lets the holder go).
  calls = {
    "Semaphore#wait" => {
      blocked: -> { sem.wait },
      intact: -> { sem.value.zero? },
      release: ->(_holder) { sem.post },
      verify: lambda do |_holder|
        expect(sem.value).to eq(0)
        sem.post
        expect(sem.value).to eq(1)
        expect(sem.try_wait).to equal(sem)
      end
    },
    "Semaphore#try_wait(timeout)" => {
      blocked: -> { sem.try_wait(30) },
      intact: -> { sem.value.zero? },
      release: ->(_holder) { sem.post },
      verify: lambda do |_holder|
        expect(sem.value).to eq(0)
        expect { sem.try_wait(0.01) }.to raise_error(Errno::ETIMEDOUT)
        sem.post
        expect(sem.value).to eq(1)
      end
    },
    "Semaphore(undo: true)#wait" => {
      hold: -> { undo.wait },
      unhold: -> { undo.post },
      blocked: -> { undo.wait },
      intact: -> { undo.value.zero? && undo.holders.size == 1 },
      cleanup: -> { undo.post if undo.holders.any? { |pid, _units| pid == Process.pid } },
      release: ->(holder) { holder.call },
      verify: lambda do |holder|
        expect(undo.value).to eq(0)
        holder.call
        expect(undo.value).to eq(1)
        expect(undo.holders).to eq([])
      end
    },
    "ReadWriteLock#acquire_write_lock" => {
      hold: -> { rwlock.acquire_read_lock },
      unhold: -> { rwlock.release_read_lock },
      blocked: -> { rwlock.acquire_write_lock },
      intact: -> { !rwlock.write_locked? },
      cleanup: -> { rwlock.release_write_lock if rwlock.write_locked? },
      release: ->(holder) { holder.call },
      verify: lambda do |holder|
        expect(rwlock.write_locked?).to be false
        expect(rwlock.try_read_lock).to be true # no writer left waiting
        rwlock.release_read_lock
        holder.call
        expect(rwlock.try_write_lock).to be true
        rwlock.release_write_lock
      end
    },
    "BinarySemaphore#wait" => {
      blocked: -> { binary.wait },
      intact: -> { binary.value.zero? },
      release: ->(_holder) { binary.post },
      verify: lambda do |_holder|
        expect(binary.value).to eq(0)
        binary.post
        expect(binary.value).to eq(1)
      end
    },
    "Mutex#lock" => {
      hold: -> { mutex.lock },
      unhold: lambda do
        raise "the holder lost the mutex" unless mutex.owned?

        mutex.unlock
      end,
      blocked: -> { mutex.lock },
      intact: -> { mutex.locked? && !mutex.owned? },
      cleanup: -> { mutex.unlock if mutex.owned? },
      release: ->(holder) { holder.call },
      verify: lambda do |holder|
        expect(mutex).to be_locked
        expect(mutex).not_to be_owned
        holder.call
        expect(mutex.try_lock).to be true
        expect(mutex.previous_owner_died?).to be false
        mutex.unlock
      end
    },
    "Queue#pop" => {
      blocked: -> { queue.pop },
      intact: -> { queue.empty? },
      release: ->(_holder) { queue.push(:item) },
      verify: lambda do |_holder|
        expect(queue).to be_empty
        queue.push(:item)
        expect(queue.pop(timeout: 1)).to eq(:item)
        expect(queue.num_waiting).to eq(0)
      end
    },
    "SizedQueue#push" => {
      blocked: -> { full.push(:second) },
      intact: -> { full.size == 1 },
      release: ->(_holder) { full.pop },
      verify: lambda do |_holder|
        expect(full.size).to eq(1)
        expect(full.pop).to eq(:first)
        expect(full.pop(timeout: 0)).to be_nil
        expect(full.num_waiting).to eq(0)
      end
    },
    "CountDownLatch#wait" => {
      blocked: -> { latch.wait },
      intact: -> { latch.count == 1 },
      release: ->(_holder) { latch.count_down },
      verify: lambda do |_holder|
        expect(latch.count).to eq(1)
        latch.count_down
        expect(latch.wait(1)).to be(true)
      end
    },
    "Event#wait" => {
      blocked: -> { event.wait },
      intact: -> { !event.set? },
      release: ->(_holder) { event.set },
      verify: lambda do |_holder|
        expect(event).not_to be_set
        event.set
        expect(event.wait(1)).to be(true)
      end
    },
    "Monitor#enter" => {
      hold: -> { 2.times { monitor.enter } },
      unhold: lambda do
        monitor.exit
        raise "the holder's depth changed" unless monitor.mon_owned?

        monitor.exit
      end,
      blocked: -> { monitor.enter },
      intact: -> { monitor.mon_locked? && !monitor.mon_owned? },
      cleanup: -> { monitor.exit if monitor.mon_owned? },
      release: ->(holder) { holder.call },
      verify: lambda do |holder|
        expect(monitor).to be_mon_locked
        expect(monitor).not_to be_mon_owned
        holder.call
        expect(monitor.try_enter).to be true
        expect(monitor.previous_owner_died?).to be false
        monitor.exit
        expect(monitor).not_to be_mon_locked
      end
    },
    "ConditionVariable#wait" => {
      blocked: lambda do
        mutex.lock
        cond.wait(mutex)
      end,
      intact: -> { mutex.owned? },
      cleanup: -> { mutex.unlock if mutex.owned? },
      release: ->(_holder) { mutex.synchronize { cond.signal } },
      verify: lambda do |_holder|
        expect(mutex).not_to be_locked
        waiter = quiet_thread { mutex.synchronize { cond.wait(mutex, 10) } }
        wait_until_blocked(waiter)
        mutex.synchronize { cond.signal }
        expect(waiter.value).to be_an(Integer) # woken, not timed out
      end
    },
    "MonitorMixin::ConditionVariable#wait" => {
      blocked: lambda do
        2.times { mixin.mon_enter }
        mixin_cond.wait
      end,
      intact: lambda do # owned, two levels deep
        next false unless mixin.mon_owned?

        mixin.mon_exit
        mixin.mon_owned?
      end,
      cleanup: -> { mixin.mon_exit while mixin.mon_owned? },
      release: ->(_holder) { mixin.mon_synchronize { mixin_cond.signal } },
      verify: lambda do |_holder|
        expect(mixin).not_to be_mon_locked
        waiter = quiet_thread { mixin.mon_synchronize { mixin_cond.wait(10) } }
        wait_until_blocked(waiter)
        mixin.mon_synchronize { mixin_cond.signal }
        expect(waiter.value).to be_truthy
      end
    }
  }

  # Runs the call; if it does not complete, records when and in what state
  # its ensure clause ran.
  def run_blocked(steps)
    done = false
    instance_exec(&steps[:blocked])
    done = true
  ensure
    unless done
      report[0] = monotonic_now
      report[1] = instance_exec(&steps[:intact]) ? 1 : 0
    end
    instance_exec(&steps[:cleanup]) if steps[:cleanup]
  end

  # Lets another process take the call's lock, if it has one. Returns the
  # lambda that lets it go (and checks that it still held the lock exactly).
  def start_holder(steps)
    return -> {} unless steps[:hold]

    held = ProcessShared::Semaphore.new(0)
    go = ProcessShared::Semaphore.new(0)
    hold = steps[:hold]
    unhold = steps[:unhold]
    pid = fork_child do
      instance_exec(&hold)
      held.post
      go.try_wait(30)
      instance_exec(&unhold)
    end
    held.try_wait(10)
    released = false
    lambda do
      next if released

      released = true
      go.post
      expect_children_to_succeed([pid])
    end
  end

  # Forks a child that blocks in the call, after `setup` (its traps).
  # Returns its pid once it is asleep in the call.
  def fork_blocked(steps, setup, rescued)
    ready = ProcessShared::Semaphore.new(0)
    pid = fork_child do
      instance_exec(&setup)
      ready.post
      begin
        run_blocked(steps)
        report[2] = InterruptMatrix::COMPLETED
      rescue *rescued
        report[2] = InterruptMatrix::INTERRUPTED
      end
    end
    ready.try_wait(10)
    eventually(message: "child #{pid} did not block") do
      File.read("/proc/#{pid}/stat").split(") ").last.start_with?("S")
    end
    sleep 0.05 # inside the wait rather than between two of its slices
    pid
  end

  def record_latency(interruption, sent_at)
    latency = report[0] - sent_at
    LatencyReport.record("interrupt: #{interruption}", latency)
    LatencyReport.record("interrupt: all kinds", latency)
    expect(latency).to be_between(0, 1.0)
  end

  # How to interrupt: each runs the call blocked, interrupts it, and returns
  # when the interrupted code is done, having checked how it ended.
  interruptions = {
    "SIGINT (Interrupt)" => lambda do |steps|
      pid = fork_blocked(steps, -> { trap("INT", "DEFAULT") }, [Interrupt])
      sent_at = monotonic_now
      Process.kill(:INT, pid)
      expect_children_to_succeed([pid], timeout: 10)
      expect(report[2]).to eq(InterruptMatrix::INTERRUPTED)
      sent_at
    end,
    "SIGTERM with a trap that raises" => lambda do |steps|
      pid = fork_blocked(steps, -> { trap("TERM") { raise InterruptMatrix::Trapped } }, [InterruptMatrix::Trapped])
      sent_at = monotonic_now
      Process.kill(:TERM, pid)
      expect_children_to_succeed([pid], timeout: 10)
      expect(report[2]).to eq(InterruptMatrix::INTERRUPTED)
      sent_at
    end,
    "Thread#raise" => lambda do |steps|
      thread = quiet_thread { run_blocked(steps) }
      wait_until_blocked(thread)
      sent_at = monotonic_now
      thread.raise(InterruptMatrix::Raised)
      expect { thread.join(10) }.to raise_error(InterruptMatrix::Raised)
      sent_at
    end,
    "Thread#kill" => lambda do |steps|
      thread = quiet_thread { run_blocked(steps) }
      wait_until_blocked(thread)
      sent_at = monotonic_now
      thread.kill
      expect(thread.join(10)).to eq(thread)
      expect(thread).not_to be_alive
      sent_at
    end,
    "Timeout.timeout" => lambda do |steps|
      start = monotonic_now
      expect { Timeout.timeout(0.3) { run_blocked(steps) } }.to raise_error(Timeout::Error)
      start + 0.3
    end
  }

  calls.each do |call_name, steps|
    describe call_name do
      interruptions.each do |interruption, interrupt|
        it "is interrupted by #{interruption} promptly and left exactly as it was" do
          holder = start_holder(steps)
          sent_at = instance_exec(steps, &interrupt)
          expect(report[1]).to eq(1), "the interrupted code did not find #{call_name} intact"
          record_latency(interruption, sent_at)
          instance_exec(holder, &steps[:verify])
        ensure
          holder&.call
        end
      end

      it "runs a SIGTERM trap that does not raise, and goes on waiting until released" do
        holder = start_holder(steps)
        trapped_at = ProcessShared::SharedArray.new(:double, 1)
        pid = fork_blocked(steps, -> { trap("TERM") { trapped_at[0] = monotonic_now } }, [])
        sent_at = monotonic_now
        Process.kill(:TERM, pid)
        eventually(timeout: 5, message: "the trap did not run") { trapped_at[0].positive? }
        LatencyReport.record("interrupt: SIGTERM with a trap that returns", trapped_at[0] - sent_at)
        expect(trapped_at[0] - sent_at).to be_between(0, 1.0)
        sleep 0.2
        expect(report[2]).to eq(0) # still waiting
        instance_exec(holder, &steps[:release])
        expect_children_to_succeed([pid], timeout: 10)
        expect(report[2]).to eq(InterruptMatrix::COMPLETED)
        expect(report[0]).to eq(0) # never interrupted
      ensure
        holder&.call
      end
    end
  end
end
