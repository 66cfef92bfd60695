# frozen_string_literal: true

require_relative "support/lock_helpers"

RSpec.describe ProcessShared::Barrier do
  def make(parties)
    barrier = described_class.new(parties)
    opened << barrier
    barrier
  end

  def opened
    @opened ||= []
  end

  after { opened.each(&:close) }

  # Children that wait once and exit with 10 + their arrival index, or 1
  # when the barrier breaks.
  def waiting_children(barrier, count)
    Array.new(count) do
      fork_child do
        exit!(10 + barrier.wait(20))
      rescue ProcessShared::BrokenBarrierError
        exit!(1)
      end
    end
  end

  def exit_codes(pids)
    pids.map { |pid| wait_child(pid).exitstatus }.sort
  end

  it "releases all parties together, each with its own arrival index, generation after generation" do
    barrier = make(3)
    expect(barrier.parties).to eq(3)
    2.times do
      pids = waiting_children(barrier, 2)
      eventually { barrier.n_waiting == 2 }
      expect(barrier.wait).to eq(2)
      expect(exit_codes(pids)).to eq([10, 11])
      expect(barrier.n_waiting).to eq(0)
    end
    expect(barrier).not_to be_broken
  end

  it "breaks on a timeout: the waiter and every other raise BrokenBarrierError until reset" do
    barrier = make(3)
    pids = waiting_children(barrier, 1)
    eventually { barrier.n_waiting == 1 }
    expect { barrier.wait(0.05) }.to raise_error(ProcessShared::BrokenBarrierError)
    expect(exit_codes(pids)).to eq([1])
    expect(barrier).to be_broken
    expect(barrier.inspect).to eq("#<ProcessShared::Barrier broken>")
    expect { barrier.wait }.to raise_error(ProcessShared::BrokenBarrierError)
    expect(barrier.reset).to be(barrier)
    expect(barrier).not_to be_broken
  end

  it "breaks on abort and on reset while parties wait" do
    %i[abort reset].each do |how|
      barrier = make(3)
      pids = waiting_children(barrier, 2)
      eventually { barrier.n_waiting == 2 }
      expect(barrier.inspect).to eq("#<ProcessShared::Barrier 2/3 waiting>")
      barrier.public_send(how)
      expect(exit_codes(pids)).to eq([1, 1])
      expect(barrier.broken?).to eq(how == :abort)
    end
  end

  it "breaks within 100 ms (plus scheduling) when a waiting party is killed" do
    barrier = make(4)
    survivors = waiting_children(barrier, 2)
    victim = waiting_children(barrier, 1).first
    eventually { barrier.n_waiting == 3 }
    Process.kill(:KILL, victim)
    wait_child(victim)
    killed = monotonic_now
    expect(exit_codes(survivors)).to eq([1, 1])
    expect(monotonic_now - killed).to be < 2
    expect(barrier).to be_broken
  end

  it "breaks when a waiting thread is interrupted, as Python's does" do
    barrier = make(2)
    thread = quiet_thread { barrier.wait }
    wait_until_blocked(thread)
    thread.raise(Interrupt)
    expect { thread.join }.to raise_error(Interrupt)
    expect(barrier).to be_broken
  end

  it "lets a single party pass at once" do
    expect(make(1).wait).to eq(0)
  end

  it "refuses bad party counts and raises ClosedError after close" do
    expect { make(0) }.to raise_error(ArgumentError)
    expect { make(1 << 40) }.to raise_error(ArgumentError)
    expect { make(2.0) }.to raise_error(TypeError)
    barrier = make(2)
    barrier.close
    expect(barrier).to be_closed
    expect { barrier.wait }.to raise_error(ProcessShared::ClosedError)
    expect(barrier.inspect).to eq("#<ProcessShared::Barrier closed>")
  end

  it "has BrokenBarrierError under ProcessError" do
    expect(ProcessShared::BrokenBarrierError.superclass).to be(ProcessShared::ProcessError)
  end
end

RSpec.describe ProcessShared::CountDownLatch do
  it "opens when counted down to zero by other processes, and not below" do
    latch = described_class.new(3)
    expect(latch.count).to eq(3)
    expect(latch.wait(0.05)).to be(false)
    pids = Array.new(3) { fork_child { latch.count_down } }
    expect(latch.wait(20)).to be(true)
    expect_children_to_succeed(pids)
    expect(latch.count_down).to be_nil
    expect(latch.count).to eq(0)
    expect(latch.inspect).to eq("#<ProcessShared::CountDownLatch count 0>")
    latch.close
  end

  it "wakes waiters of other processes" do
    latch = described_class.new
    pids = Array.new(2) { fork_child { exit!(latch.wait(20) ? 0 : 1) } }
    sleep 0.05
    latch.count_down
    expect_children_to_succeed(pids)
    latch.close
  end

  it "starts open at 0 and refuses negative counts" do
    expect(described_class.new(0).wait).to be(true)
    expect { described_class.new(-1) }.to raise_error(ArgumentError)
    expect { described_class.new(1.0) }.to raise_error(TypeError)
    expect { described_class.new(1).wait(-1) }.to raise_error(ArgumentError)
  end
end

RSpec.describe ProcessShared::Event do
  it "releases waiters of every process when set, until reset" do
    event = described_class.new
    expect(event).not_to be_set
    expect(event.wait(0.05)).to be(false)
    pids = Array.new(3) { fork_child { exit!(event.wait(20) ? 0 : 1) } }
    sleep 0.05
    expect(event.set).to be(true)
    expect_children_to_succeed(pids)
    expect(event).to be_set
    expect(event.wait).to be(true)
    expect(event.try?).to be(false)
    expect(event.inspect).to eq("#<ProcessShared::Event set>")
    expect(event.reset).to be(true)
    expect(event.try?).to be(true)
    event.close
    expect { event.set }.to raise_error(ProcessShared::ClosedError)
  end
end
