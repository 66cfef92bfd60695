# frozen_string_literal: true

require "spec_helper"
require_relative "support/tiny_scheduler"

# Locks are owned by a fiber, as Thread::Mutex and Monitor are since Ruby
# 3.0; waits under a Fiber.scheduler let the scheduler run other fibers.
RSpec.describe "fibers" do
  # Runs the block in a new thread whose fibers a TinyScheduler runs; the
  # scheduler finishes every fiber before the thread ends.
  def with_tiny_scheduler(&block)
    thread = Thread.new do
      Thread.current.report_on_exception = false
      Fiber.set_scheduler(TinyScheduler.new)
      block.call
    end
    thread.join(60) or raise "scheduler thread did not finish"
    thread.value
  end

  # A child that holds `lock` (via `take`/`give`) for `hold` seconds; it
  # posts `held` once it has it. Returns the pid.
  def hold_in_child(held, hold:, take:, give:)
    pid = fork_child do
      take.call
      held.post
      sleep hold
      give.call
    end
    held.wait
    pid
  end

  describe "without a scheduler" do
    {
      "Mutex" => -> { ProcessShared::Mutex.new },
      "Monitor" => -> { ProcessShared::Monitor.new }
    }.each do |name, make|
      context "a #{name} held by another fiber of the same thread" do
        let(:lock) { make.call }
        let!(:holder) do
          # Read outside the fiber: RSpec's memoization lock is a
          # Thread::Mutex, which another fiber cannot take meanwhile.
          held = lock
          fiber = Fiber.new do
            held.lock
            Fiber.yield
            held.unlock
          end
          fiber.resume
          fiber
        end

        after { holder.resume if holder.alive? }

        it "is locked but not owned by this fiber" do
          expect(lock.locked?).to be(true) if lock.respond_to?(:locked?)
          expect(name == "Mutex" ? lock.owned? : lock.mon_owned?).to be(false)
        end

        it "cannot be unlocked by this fiber" do
          expect { lock.unlock }.to raise_error(ProcessShared::ProcessError)
          holder.resume
          expect(holder.alive?).to be(false)
        end

        it "raises instead of blocking the thread for ever when this fiber locks it" do
          expect { lock.lock }.to raise_error(
            ProcessShared::ProcessError, /lock already owned by another fiber belonging to the same thread/
          )
          expect(lock.try_lock).to be(false)
        end

        it "is free again once the holding fiber unlocks, and this fiber may take it" do
          holder.resume
          lock.lock
          expect(name == "Mutex" ? lock.owned? : lock.mon_owned?).to be(true)
          lock.unlock
        end
      end
    end

    it "lets a fiber own a lock its thread's other fiber released, and not the other way round" do
      mutex = ProcessShared::Mutex.new
      mutex.lock
      expect(Fiber.new { mutex.owned? }.resume).to be(false)
      expect(Fiber.new { mutex.try_lock }.resume).to be(false)
      expect(mutex.owned?).to be(true)
      mutex.unlock
    end
  end

  describe "under a minimal scheduler" do
    it "does not lose updates when 4 fibers x 5 take a Monitor around a sleep" do
      monitor = ProcessShared::Monitor.new
      counter = 0
      with_tiny_scheduler do
        4.times do
          Fiber.schedule do
            5.times do
              monitor.synchronize do
                value = counter
                sleep 0.002
                counter = value + 1
              end
            end
          end
        end
      end
      expect(counter).to eq(20)
    end

    it "lets fibers take turns on a Mutex held across a sleep" do
      mutex = ProcessShared::Mutex.new
      order = []
      with_tiny_scheduler do
        3.times do |i|
          Fiber.schedule do
            2.times do
              mutex.synchronize do
                order << [i, :in]
                sleep 0.002
                order << [i, :out]
              end
            end
          end
        end
      end
      expect(order.each_slice(2).map { |(a, _), (b, _)| a == b }).to all(be(true))
      expect(order.size).to eq(12)
    end

    it "runs other fibers while one waits for a lock another process holds" do
      mutex = ProcessShared::Mutex.new
      held = ProcessShared::Semaphore.new(0)
      pid = hold_in_child(held, hold: 0.5, take: -> { mutex.lock }, give: -> { mutex.unlock })
      ticks = 0
      got_it = nil
      with_tiny_scheduler do
        Fiber.schedule do
          mutex.synchronize { got_it = ticks }
        end
        Fiber.schedule do
          50.times do
            sleep 0.01
            ticks += 1
          end
        end
      end
      expect(wait_child(pid).exitstatus).to eq(0)
      # A wait that blocked the thread would let the ticker tick at most
      # once before the lock came free (after 0.5 s).
      expect(got_it).to be >= 10
    end

    it "honours a timeout while other fibers run" do
      mutex = ProcessShared::Mutex.new
      held = ProcessShared::Semaphore.new(0)
      release = ProcessShared::Semaphore.new(0)
      pid = hold_in_child(held, hold: 0, take: -> { mutex.lock }, give: -> { release.wait && mutex.unlock })
      result = nil
      ticks = 0
      elapsed = nil
      with_tiny_scheduler do
        Fiber.schedule do
          started = monotonic_now
          result = mutex.try_lock(0.3)
          elapsed = monotonic_now - started
        end
        Fiber.schedule do
          20.times do
            sleep 0.01
            ticks += 1
          end
        end
      end
      release.post
      expect(wait_child(pid).exitstatus).to eq(0)
      expect(result).to be(false)
      expect(elapsed).to be >= 0.3
      expect(ticks).to eq(20)
    end

    it "lets other fibers run while one waits on a Semaphore, a BinarySemaphore and a ConditionVariable" do
      semaphore = ProcessShared::Semaphore.new(0)
      binary = ProcessShared::BinarySemaphore.new(0)
      mutex = ProcessShared::Mutex.new
      condition = ProcessShared::ConditionVariable.new
      flag = ProcessShared::SharedMemory.new(:int)
      pid = fork_child do
        sleep 0.3
        semaphore.post
        binary.post
        mutex.synchronize do
          flag.put_int(0, 1)
          condition.broadcast
        end
      end
      ticks = 0
      seen = {}
      with_tiny_scheduler do
        Fiber.schedule do
          semaphore.wait
          seen[:semaphore] = ticks
        end
        Fiber.schedule do
          binary.wait
          seen[:binary] = ticks
        end
        Fiber.schedule do
          mutex.synchronize do
            condition.wait(mutex, 5) until flag.get_int(0) == 1
          end
          seen[:condition] = ticks
        end
        Fiber.schedule do
          30.times do
            sleep 0.01
            ticks += 1
          end
        end
      end
      expect(wait_child(pid).exitstatus).to eq(0)
      expect(seen.keys).to contain_exactly(:semaphore, :binary, :condition)
      expect(seen.values).to all(be >= 5)
    end

    it "leaves a lock as it was when the waiting fiber's thread is interrupted" do
      mutex = ProcessShared::Mutex.new
      held = ProcessShared::Semaphore.new(0)
      release = ProcessShared::Semaphore.new(0)
      pid = hold_in_child(held, hold: 0, take: -> { mutex.lock }, give: -> { release.wait && mutex.unlock })
      waiting = ProcessShared::Semaphore.new(0)
      thread = Thread.new do
        Thread.current.report_on_exception = false
        Fiber.set_scheduler(TinyScheduler.new)
        Fiber.schedule do
          waiting.post
          mutex.lock
        end
      end
      waiting.wait
      sleep 0.1
      thread.raise(Interrupt)
      expect { thread.join(10) }.to raise_error(Interrupt)
      release.post
      expect(wait_child(pid).exitstatus).to eq(0)
      expect(mutex.try_lock(5)).to be(true)
      mutex.unlock
    end
  end

  describe "under Async" do
    before do
      require "async"
    rescue LoadError
      skip "the async gem is not installed (bin/setup installs ruby-async)"
    end

    it "lets two tasks of one worker take turns on a Mutex and a Monitor" do
      mutex = ProcessShared::Mutex.new
      monitor = ProcessShared::Monitor.new
      counter = 0
      Sync do |task|
        Array.new(4) do
          task.async do
            5.times do
              mutex.synchronize do
                monitor.synchronize do
                  value = counter
                  sleep 0.001
                  counter = value + 1
                end
              end
            end
          end
        end.each(&:wait)
      end
      expect(counter).to eq(20)
    end

    it "keeps the reactor running while a task waits for another process" do
      mutex = ProcessShared::Mutex.new
      held = ProcessShared::Semaphore.new(0)
      pid = hold_in_child(held, hold: 0.4, take: -> { mutex.lock }, give: -> { mutex.unlock })
      ticks = 0
      got_it = nil
      Sync do |task|
        waiter = task.async { mutex.synchronize { got_it = ticks } }
        ticker = task.async do
          40.times do
            sleep 0.01
            ticks += 1
          end
        end
        [waiter, ticker].each(&:wait)
      end
      expect(wait_child(pid).exitstatus).to eq(0)
      expect(got_it).to be >= 10
    end

    it "stops a waiting task cleanly, leaving the lock as it was" do
      mutex = ProcessShared::Mutex.new
      held = ProcessShared::Semaphore.new(0)
      release = ProcessShared::Semaphore.new(0)
      pid = hold_in_child(held, hold: 0, take: -> { mutex.lock }, give: -> { release.wait && mutex.unlock })
      Sync do |task|
        waiter = task.async { mutex.lock }
        task.sleep 0.05
        waiter.stop
      end
      release.post
      expect(wait_child(pid).exitstatus).to eq(0)
      expect(mutex.try_lock(5)).to be(true)
      expect(mutex.waiting).to eq(0) if mutex.respond_to?(:waiting)
      mutex.unlock
    end
  end
end
