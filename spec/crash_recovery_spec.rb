# frozen_string_literal: true

require_relative "support/lock_helpers"
require_relative "support/latency_report"

# What every primitive does when a process using it dies at the worst moment:
# holding a lock, waiting on a condition, or between a semaphore's wait and
# post. Recovery times are measured; PROCESS_SHARED_TIMINGS=1 prints them.
RSpec.describe "Crash recovery" do
  # The lock kinds, by the names of their methods.
  lock_kinds = {
    "Mutex" => {
      make: -> { ProcessShared::Mutex.new }, reentrant: false,
      lock: :lock, try_lock: :try_lock, unlock: :unlock, synchronize: :synchronize,
      owner_died: :previous_owner_died?, locked: :locked?
    },
    "Monitor" => {
      make: -> { ProcessShared::Monitor.new }, reentrant: true,
      lock: :enter, try_lock: :try_enter, unlock: :exit, synchronize: :synchronize,
      owner_died: :previous_owner_died?, locked: :mon_locked?
    },
    "MonitorMixin" => {
      make: -> { Object.new.extend(ProcessShared::MonitorMixin) }, reentrant: true,
      lock: :mon_enter, try_lock: :mon_try_enter, unlock: :mon_exit, synchronize: :mon_synchronize,
      owner_died: :mon_previous_owner_died?, locked: :mon_locked?
    }
  }

  # How the holder dies: by a signal the test sends, or by its own exit!.
  # SIGBUS and SIGSEGV make Ruby write a crash report (50 to 500 ms) and
  # abort: the holder dies that much after the signal.
  deaths = {
    "SIGKILL" => { signal: :KILL, termsig: :KILL },
    "SIGTERM with the system's default action" => { signal: :TERM, termsig: :TERM },
    "SIGABRT" => { signal: :ABRT, termsig: :ABRT },
    "SIGBUS" => { signal: :BUS, termsig: :ABRT, crash_report: true },
    "SIGSEGV" => { signal: :SEGV, termsig: :ABRT, crash_report: true },
    "exit! inside synchronize" => { signal: nil, exitstatus: 3 }
  }

  def call(lock, kind, name, *args, &)
    lock.public_send(kind.fetch(name), *args, &)
  end

  # Takes every lock, monitors twice over (synchronize, then enter), and
  # yields while holding them all.
  def hold_all(locks, kind, &)
    return yield if locks.empty?

    first, *rest = locks
    call(first, kind, :synchronize) do
      call(first, kind, :lock) if kind[:reentrant]
      hold_all(rest, kind, &)
    end
  end

  # Forks a process that takes every lock and then dies holding them: by
  # `signal`, which the returned lambda sends, or (without one) by exit! when
  # the lambda is called. The lambda returns the holder's pid and the
  # monotonic time of the death's cause. Plain fork: the holder must not run
  # fork_child's rescue.
  def fork_dying_holder(locks, kind, signal)
    held = ProcessShared::Semaphore.new(0)
    go = ProcessShared::Semaphore.new(0)
    pid = fork do
      $stderr.reopen(File::NULL) # Ruby's crash report for SIGBUS and SIGSEGV
      Process.setrlimit(:CORE, 0)
      trap("TERM", "SYSTEM_DEFAULT")
      hold_all(locks, kind) do
        held.post
        go.try_wait(30)
        exit!(3)
      end
    ensure
      exit!(2) # not reached unless something failed
    end
    forked_pids << pid
    held.try_wait(10)
    lambda do
      now = monotonic_now
      signal ? Process.kill(signal, pid) : go.post
      [pid, now]
    end
  end

  # Waits until the main thread of process `pid` sleeps (blocked in a wait).
  def wait_until_sleeping(pid, timeout: 10)
    eventually(timeout:, message: "process #{pid} did not block") do
      File.read("/proc/#{pid}/stat").split(") ").last.start_with?("S")
    end
    sleep 0.05
  end

  def expect_death(status, death)
    if death[:termsig]
      expect(status.termsig).to eq(Signal.list.fetch(death[:termsig].to_s)), status.inspect
    else
      expect(status.exitstatus).to eq(death[:exitstatus]), status.inspect
    end
  end

  describe "when a lock holder dies" do
    lock_kinds.each do |kind_name, kind|
      deaths.each do |death_name, death|
        it "#{kind_name}: a waiter in another process and later lock, try_lock and synchronize " \
           "take over within a second of #{death_name}" do
          # One lock per way of acquiring it: only the first caller after a
          # death sees previous_owner_died?.
          locks = Array.new(4) { kind[:make].call }
          waited, *later = locks
          report = ProcessShared::SharedArray.new(:double, 4)
          ready = ProcessShared::Semaphore.new(0)
          kill = fork_dying_holder(locks, kind, death[:signal])

          waiter = fork_child do
            ready.post
            call(waited, kind, :lock)
            report[0] = monotonic_now
            report[1] = call(waited, kind, :owner_died) ? 1 : 0
            call(waited, kind, :unlock) # depth 1 after a takeover: one exit releases it
            report[2] = call(waited, kind, :locked) ? 1 : 0
            call(waited, kind, :synchronize) { report[3] = call(waited, kind, :owner_died) ? 1 : 0 }
          end
          ready.try_wait(10)
          wait_until_sleeping(waiter)

          holder, died_at = kill.call
          expect_death(wait_child(holder, timeout: 10), death)
          reaped_at = monotonic_now

          %i[lock try_lock synchronize].zip(later).each do |way, lock|
            start = monotonic_now
            died = case way
                   when :synchronize then call(lock, kind, :synchronize) { call(lock, kind, :owner_died) }
                   when :try_lock
                     expect(call(lock, kind, :try_lock)).to be true
                     call(lock, kind, :owner_died).tap { call(lock, kind, :unlock) }
                   else
                     call(lock, kind, :lock)
                     call(lock, kind, :owner_died).tap { call(lock, kind, :unlock) }
                   end
            took = monotonic_now - start
            LatencyReport.record("later #{way} on a dead holder's lock", took)
            expect(took).to be < 1.0
            expect(died).to be(true), "#{way}: previous_owner_died?"
            expect(call(lock, kind, :locked)).to be false
            expect(call(lock, kind, :synchronize) { call(lock, kind, :owner_died) }).to be false
          end

          expect_children_to_succeed([waiter], timeout: 10)
          recovery = report[0] - died_at
          LatencyReport.record("blocked waiter takes over after #{death[:signal] || 'exit!'}", recovery)
          expect(report[0] - reaped_at).to be < 1.0 # negative when it took over before the holder was reaped
          expect(recovery).to be < 1.0 unless death[:crash_report]
          expect(report.to_a.drop(1)).to eq([1.0, 0.0, 0.0]) # died?, locked after one exit, died? next time
        end
      end
    end

    it "is taken over by a waiter whose process receives a signal every 20 ms (each ends a wait slice early)" do
      mutex = ProcessShared::Mutex.new
      acquired_at = ProcessShared::SharedArray.new(:double, 1)
      ready = ProcessShared::Semaphore.new(0)
      done = ProcessShared::Semaphore.new(0)
      kill = fork_dying_holder([mutex], lock_kinds["Mutex"], :KILL)
      waiter = fork_child do
        trap("USR1") { nil }
        ready.post
        mutex.lock
        acquired_at[0] = monotonic_now
        raise "not told that the holder died" unless mutex.previous_owner_died?

        done.try_wait(30) # stay alive (and unreaped) while signals may still come
      end
      ready.try_wait(10)
      wait_until_sleeping(waiter)
      pester = Thread.new do
        loop do
          Process.kill(:USR1, waiter)
          sleep 0.02
        end
      end
      begin
        holder, died_at = kill.call
        wait_child(holder)
        eventually(timeout: 5, message: "the waiter did not take the lock over") { acquired_at[0].positive? }
      ensure
        pester.kill.join
      end
      done.post
      expect_children_to_succeed([waiter], timeout: 10)
      LatencyReport.record("blocked waiter takes over under a signal stream", acquired_at[0] - died_at)
      expect(acquired_at[0] - died_at).to be < 1.0
    end

    it "SIGTERM with Ruby's own handler unwinds synchronize, so the lock is released cleanly" do
      mutex = ProcessShared::Mutex.new
      held = ProcessShared::Semaphore.new(0)
      holder = fork do
        mutex.synchronize do
          held.post
          sleep 30
        end
        exit!(5)
      rescue SignalException
        exit!(mutex.locked? ? 1 : 4)
      end
      forked_pids << holder
      held.try_wait(10)
      Process.kill(:TERM, holder)
      expect(wait_child(holder, timeout: 10).exitstatus).to eq(4)
      expect(mutex.try_lock).to be true
      expect(mutex.previous_owner_died?).to be false
      mutex.unlock
    end

    it "releases a lock whose holding thread ended without unlocking, while its process lives on" do
      mutex = ProcessShared::Mutex.new
      waiting = ProcessShared::Semaphore.new(0)
      go = ProcessShared::Semaphore.new(0)
      holder = fork_child do
        waiting.try_wait(10)
        Thread.new { mutex.lock }.join
        raise "owned by the thread that ended" if mutex.owned?

        go.try_wait(30)
      end
      waiting.post
      expect(mutex.try_lock(10)).to be true
      expect(mutex.previous_owner_died?).to be false
      mutex.unlock
      go.post
      expect_children_to_succeed([holder])
    end
  end

  describe "a live holder" do
    it "keeps a Mutex and a Monitor for 5 s while 8 processes wait (lock, try_lock with timeouts)" do
      mutex = ProcessShared::Mutex.new
      monitor = ProcessShared::Monitor.new
      released_at = ProcessShared::SharedArray.new(:double, 1)
      outcomes = ProcessShared::SharedArray.new(:double, 8) # time acquired, or -1 when refused
      died = ProcessShared::SharedArray.new(:int, 8)
      held = ProcessShared::Semaphore.new(0)
      released_at[0] = monotonic_now + 5.5

      holder = fork_child do
        mutex.lock
        2.times { monitor.enter }
        held.post
        until monotonic_now > released_at[0]
          raise "lost the mutex" unless mutex.owned?
          raise "lost the monitor" unless monitor.mon_owned?

          sleep 0.05
        end
        monitor.exit
        raise "monitor released after one of two exits" unless monitor.mon_owned?

        monitor.exit
        mutex.unlock
      end
      held.try_wait(10)

      attempts = [[mutex, :lock], [mutex, :lock], [mutex, :try_lock, 2], [mutex, :try_lock, 30],
                  [monitor, :enter], [monitor, :enter], [monitor, :try_enter, 2], [monitor, :try_enter, 30]]
      waiters = attempts.each_with_index.map do |(lock, method, *timeout), index|
        fork_child do
          acquired = lock.public_send(method, *timeout) != false # lock and enter return self or nil
          outcomes[index] = acquired ? monotonic_now : -1
          next unless acquired

          died[index] = lock.previous_owner_died? ? 1 : 0
          sleep 0.01
          lock.is_a?(ProcessShared::Monitor) ? lock.exit : lock.unlock
        end
      end
      expect_children_to_succeed([holder, *waiters], timeout: 60)

      refused = [2, 6]
      expect(outcomes.to_a.values_at(*refused)).to eq([-1.0, -1.0])
      acquired = outcomes.to_a.values_at(*((0...8).to_a - refused))
      expect(acquired).to all(be >= released_at[0])
      expect(died.to_a).to all(eq(0))
      expect(mutex).not_to be_locked
      expect(monitor).not_to be_mon_locked
    end

    it "is never taken over while stopped by SIGSTOP, however long" do
      mutex = ProcessShared::Mutex.new
      held = ProcessShared::Semaphore.new(0)
      go = ProcessShared::Semaphore.new(0)
      holder = fork_child do
        mutex.lock
        held.post
        go.try_wait(30)
        raise "lost the lock while stopped" unless mutex.owned?

        mutex.unlock
      end
      held.try_wait(10)
      Process.kill(:STOP, holder)
      begin
        waiter = quiet_thread { mutex.synchronize { mutex.previous_owner_died? } }
        other = fork_child { raise "took a stopped holder's lock" if mutex.try_lock(1.5) }
        expect_children_to_succeed([other])
        expect(mutex.try_lock).to be false
        expect(waiter).to be_alive
      ensure
        Process.kill(:CONT, holder)
      end
      go.post
      expect(waiter.join(10)&.value).to be false
      expect_children_to_succeed([holder])
    end
  end

  describe "a ConditionVariable whose waiter is killed while waiting" do
    %i[signal broadcast].each do |wake|
      it "still wakes every remaining waiter by #{wake}" do
        mutex = ProcessShared::Mutex.new
        cond = ProcessShared::ConditionVariable.new
        permits = ProcessShared::SharedMemory.new(:int)
        woken_at = ProcessShared::SharedArray.new(:double, 5)
        waiting = ProcessShared::Semaphore.new(0)
        waiters = Array.new(5) do |index|
          fork_child do
            mutex.synchronize do
              waiting.post
              cond.wait(mutex) while permits.get_int(0).zero?
              permits.put_int(0, permits.get_int(0) - 1) if wake == :signal
              woken_at[index] = monotonic_now
            end
          end
        end
        5.times { waiting.try_wait(10) }
        mutex.synchronize { nil } # each waiter has released it: all are inside #wait
        victim = waiters.delete(waiters.sample)
        Process.kill(:KILL, victim)
        wait_child(victim)

        start = monotonic_now
        if wake == :signal
          waiters.size.times do
            mutex.synchronize do
              permits.put_int(0, permits.get_int(0) + 1)
              cond.signal
            end
          end
        else
          mutex.synchronize do
            permits.put_int(0, 1)
            cond.broadcast
          end
        end
        expect_children_to_succeed(waiters, timeout: 10)
        latencies = woken_at.to_a.reject(&:zero?).map { |at| at - start }
        latencies.each { |latency| LatencyReport.record("condition #{wake} after a killed waiter", latency) }
        expect(latencies.size).to eq(4)
        expect(latencies.max).to be < 1.0
        expect(mutex).not_to be_locked
      end
    end
  end

  describe "a Semaphore whose process dies between wait and post" do
    it "keeps the count that process took: nothing gives it back (as POSIX semaphores)" do
      sem = ProcessShared::Semaphore.new(3)
      held = ProcessShared::Semaphore.new(0)
      killed = fork_child do
        sem.synchronize do
          held.post
          sleep 30
        end
      end
      held.try_wait(10)
      Process.kill(:KILL, killed)
      wait_child(killed)
      exited = fork_child do
        sem.wait
        exit!(0)
      end
      expect_children_to_succeed([exited])
      sleep 0.2
      expect(sem.value).to eq(1)
      sem.wait
      expect { sem.try_wait(0.2) }.to raise_error(Errno::ETIMEDOUT)
      expect(sem.value).to eq(0)
    end
  end
end
