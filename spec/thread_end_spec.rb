# frozen_string_literal: true

require "spec_helper"

# A Mutex or Monitor held by a thread that ends without unlocking, in a
# process that lives on, is released as Thread::Mutex is; and Ruby's reuse
# of a finished thread's native thread never passes its holds on.
RSpec.describe "threads that end holding a lock" do
  {
    "Mutex" => [-> { ProcessShared::Mutex.new }, :owned?],
    "Monitor" => [-> { ProcessShared::Monitor.new }, :mon_owned?]
  }.each do |name, (make, owned)|
    describe name do
      let(:lock) { make.call }

      {
        "returns" => ->(lock) { lock.lock },
        "raises" => ->(lock) { lock.lock && raise("boom") },
        "exits" => ->(lock) { lock.lock && Thread.current.exit },
        "holds it from a suspended fiber" => ->(lock) { Fiber.new { lock.lock && Fiber.yield }.resume }
      }.each do |how, body|
        it "is released when a thread that #{how} ends (Thread.new)" do
          thread = Thread.new do
            Thread.current.report_on_exception = false
            body.call(lock)
          end
          thread.join(10) rescue nil # rubocop:disable Style/RescueModifier
          expect(thread.alive?).to be(false)
          expect(lock.mon_locked?).to be(false) if name == "Monitor"
          expect(lock.locked?).to be(false) if name == "Mutex"
        end
      end

      it "is released when a thread holding it is killed" do
        locked = Thread::Queue.new
        thread = Thread.new do
          lock.lock
          locked << true
          sleep
        end
        locked.pop
        thread.kill.join(10)
        expect(lock.try_lock).to be(true)
        lock.unlock
      end

      it "is released for threads made by Thread.start and Thread.fork too" do
        [Thread.start { lock.lock }, Thread.fork { lock.lock }].each do |thread|
          thread.join(10)
          expect(lock.try_lock).to be(true)
          lock.unlock
        end
      end

      it "reaches a waiter in another process within the dead-holder bound" do
        ready = ProcessShared::Semaphore.new(0)
        locked = ProcessShared::Semaphore.new(0)
        got_it = ProcessShared::SharedMemory.new(:double)
        pid = fork_child do
          ready.post
          locked.wait
          started = monotonic_now
          lock.lock
          got_it.put_double(0, monotonic_now - started)
          lock.unlock
        end
        ready.wait
        thread = Thread.new do
          lock.lock
          locked.post
          sleep 0.2
        end
        thread.join(10)
        expect(wait_child(pid).exitstatus).to eq(0)
        expect(got_it.get_double(0)).to be < 1.0
      end

      it "is not owned by the next threads, which Ruby may run on the same native thread" do
        Thread.new { lock.lock }.join
        results = Array.new(6) do
          Thread.new do
            [lock.public_send(owned), (lock.unlock rescue :refused)] # rubocop:disable Style/RescueModifier
          end.value
        end
        expect(results).to all(eq([false, :refused]))
      end

      it "leaves the holds of threads that live on" do
        lock.lock
        Thread.new { :done }.join
        expect(lock.public_send(owned)).to be(true)
        lock.unlock
      end
    end
  end

  it "gives a Monitor entered by a new thread its own depth, not the ended thread's" do
    monitor = ProcessShared::Monitor.new
    Thread.new { 3.times { monitor.enter } }.join
    Thread.new do
      monitor.enter
      monitor.exit
    end.join
    expect(monitor.mon_locked?).to be(false)
  end
end
