# frozen_string_literal: true

require "spec_helper"
require "support/lock_helpers"

# Semaphore.new(value, undo: true): units held per fiber, given back when
# their holder dies or its thread ends.
RSpec.describe ProcessShared::UndoSemaphore do
  let!(:semaphore) { ProcessShared::Semaphore.new(3, undo: true) }

  # Forks a child that takes `units` units, tells the parent, then runs the
  # block (which ends it one way or another).
  def holder(units, &ending)
    held = ProcessShared::Semaphore.new(0)
    pid = fork_child do
      units.times { semaphore.wait }
      held.post
      ending.call
    end
    held.wait
    pid
  end

  it "is what Semaphore.new(value, undo: true) makes, and a Semaphore" do
    expect(semaphore).to be_a(described_class).and be_a(ProcessShared::Semaphore)
    expect(ProcessShared::Semaphore.new(1)).not_to be_a(described_class)
    expect(ProcessShared::Semaphore.open(2, undo: true, &:value)).to eq(2)
  end

  it "lets only the holder post, and keeps exact counts" do
    semaphore.wait
    semaphore.wait
    expect(semaphore.value).to eq(1)
    expect(semaphore.holders).to eq([[Process.pid, 2]])
    other = quiet_thread { semaphore.post }
    expect { other.join }.to raise_error(ProcessShared::ProcessError)
    semaphore.post.post
    expect { semaphore.post }.to raise_error(ProcessShared::ProcessError)
    expect(semaphore.value).to eq(3)
    expect(semaphore.holders).to eq([])
    expect(semaphore.synchronize { semaphore.value }).to eq(2)
  end

  it "leaves plain semaphores as they were: anyone may post" do
    plain = ProcessShared::Semaphore.new(0)
    plain.post
    expect(plain.value).to eq(1)
  end

  it "accepts values up to 2**31 - 1 and refuses more" do
    big = ProcessShared::Semaphore.new((2**31) - 1, undo: true)
    big.wait
    expect(big.value).to eq((2**31) - 2)
    big.post
    expect(big.value).to eq((2**31) - 1)
    expect { ProcessShared::Semaphore.new(2**31, undo: true) }.to raise_error(ArgumentError)
    expect { ProcessShared::Semaphore.new(-1, undo: true) }.to raise_error(ArgumentError)
    expect { ProcessShared::Semaphore.new("1", undo: true) }.to raise_error(TypeError)
  end

  it "gives a SIGKILLed holder's units to a waiting wait within a second" do
    pid = holder(3) { sleep }
    waiter = quiet_thread do
      semaphore.wait
      [monotonic_now, semaphore.value, semaphore.holders].tap { semaphore.post }
    end
    wait_until_blocked(waiter)
    killed_at = monotonic_now
    Process.kill(:KILL, pid)
    got_at, value, holders = waiter.value
    expect(got_at - killed_at).to be < 1.0
    expect([value, holders]).to eq([2, [[Process.pid, 1]]])
    wait_child(pid)
    expect(semaphore.value).to eq(3)
  end

  it "gives the units of a holder that ended with exit! back to try_wait at once" do
    pid = holder(2) { exit!(0) }
    wait_child(pid)
    semaphore.wait
    expect { semaphore.try_wait }.not_to raise_error
    expect { semaphore.try_wait }.not_to raise_error
    expect { semaphore.try_wait }.to raise_error(Errno::EAGAIN)
    expect(semaphore.value).to eq(0)
    3.times { semaphore.post }
    expect(semaphore.value).to eq(3)
  end

  it "never takes units from a live holder, even a stopped one" do
    pid = holder(3) { sleep }
    Process.kill(:STOP, pid)
    expect { semaphore.try_wait(0.3) }.to raise_error(Errno::ETIMEDOUT)
    expect { semaphore.try_wait }.to raise_error(Errno::EAGAIN)
    expect(semaphore.holders).to eq([[pid, 3]])
    Process.kill(:KILL, pid)
    wait_child(pid)
    semaphore.try_wait(5)
    expect(semaphore.value).to eq(2)
  end

  it "gives back the units of a thread that ends without posting" do
    Thread.new { 2.times { semaphore.wait } }.join
    expect(semaphore.value).to eq(3)
    expect(semaphore.holders).to eq([])
  end

  it "is never exceeded by 8 processes of 2 threads, one of them killed, and loses no unit" do
    inside = ProcessShared::SharedArray.new(:int64, 2) # now, peak
    counter = ProcessShared::Mutex.new
    workers = Array.new(8) do
      fork_child do
        Array.new(2) do
          Thread.new do
            100.times do
              semaphore.synchronize do
                counter.synchronize { inside[1] = [inside[1], inside[0] += 1].max }
                Thread.pass
                counter.synchronize { inside[0] -= 1 }
              end
            end
          end
        end.each(&:join)
      end
    end
    victim = holder(1) { sleep }
    Process.kill(:KILL, victim)
    expect_children_to_succeed(workers)
    wait_child(victim)
    expect(inside[1]).to be_between(1, 3)
    3.times { semaphore.try_wait(5) }
    expect(semaphore.value).to eq(0)
    3.times { semaphore.post }
    expect(semaphore.value).to eq(3)
    expect(semaphore.holders).to eq([])
  end

  it "lets at most HOLDERS fibers hold units, and a wait waits for a free holder slot" do
    big = ProcessShared::Semaphore.new(described_class::HOLDERS + 5, undo: true)
    fibers = Array.new(described_class::HOLDERS) do
      Fiber.new do
        big.wait
        Fiber.yield
        big.post
      end
    end
    fibers.each(&:resume)
    expect(big.value).to eq(5)
    expect { big.try_wait }.to raise_error(Errno::EAGAIN)
    waiter = quiet_thread do
      big.wait
      big.post
      :got_a_slot
    end
    wait_until_blocked(waiter)
    fibers.first.resume
    expect(waiter.value).to eq(:got_a_slot)
    fibers.drop(1).each(&:resume)
    expect(big.value).to eq(described_class::HOLDERS + 5)
    expect(big.holders).to eq([])
  end

  it "leaves the value as it was when a wait is interrupted" do
    3.times { semaphore.wait }
    waiter = quiet_thread { semaphore.wait }
    wait_until_blocked(waiter)
    expect(semaphore.waiting).to eq(1)
    waiter.raise(RuntimeError, "stop")
    expect { waiter.join }.to raise_error(RuntimeError, "stop")
    expect { Timeout.timeout(0.1) { semaphore.wait } }.to raise_error(Timeout::Error)
    expect(semaphore.value).to eq(0)
    expect(semaphore.waiting).to eq(0)
    expect(semaphore.holders).to eq([[Process.pid, 3]])
  end

  it "gives back the caller's units on close, and shows its state in inspect" do
    semaphore.wait
    expect(semaphore.inspect).to eq("#<ProcessShared::UndoSemaphore value 2, held by {#{Process.pid}: 1}, 0 waiting>")
    copy = semaphore.dup
    semaphore.close
    expect(copy.value).to eq(3)
    expect(semaphore.inspect).to eq("#<ProcessShared::UndoSemaphore closed>")
    expect { semaphore.wait }.to raise_error(ProcessShared::ClosedError)
    expect(described_class.allocate.inspect).to eq("#<ProcessShared::UndoSemaphore uninitialized>")
    expect { copy.to_mtx }.to raise_error(NotImplementedError)
  end
end
