# frozen_string_literal: true

require_relative "support/lock_helpers"

RSpec.describe ProcessShared::BinarySemaphore do
  it_behaves_like "an exclusive lock across processes and threads" do
    let(:critical_section) { described_class.new.method(:synchronize) }
  end

  it "starts at 1 by default, or 0, and rejects any other value" do
    expect(described_class.new.value).to eq(1)
    expect(described_class.new(0).value).to eq(0)
    expect { described_class.new(2) }.to raise_error(ArgumentError)
    expect { described_class.new(-1) }.to raise_error(ArgumentError)
    expect { described_class.new(1.0) }.to raise_error(TypeError)
  end

  it "raises ProcessError on a post at 1 and stays at 1" do
    semaphore = described_class.new(1)
    expect { semaphore.post }.to raise_error(ProcessShared::ProcessError)
    expect(semaphore.value).to eq(1)
    expect(semaphore.wait).to equal(semaphore)
    expect(semaphore.value).to eq(0)
    expect(semaphore.post).to equal(semaphore)
    expect(semaphore.value).to eq(1)
  end

  it "raises the errors of Semaphore#try_wait" do
    semaphore = described_class.new(0)
    expect { semaphore.try_wait }.to raise_error(Errno::EAGAIN)
    start = monotonic_now
    expect { semaphore.try_wait(0.2) }.to raise_error(Errno::ETIMEDOUT)
    expect(monotonic_now - start).to be_between(0.19, 2.0)
    semaphore.post
    expect(semaphore.try_wait).to equal(semaphore)
    semaphore.post
    expect(semaphore.try_wait(1)).to equal(semaphore)
  end

  it "wakes a waiter when another process posts" do
    semaphore = described_class.new(0)
    pid = fork_child do
      sleep 0.1
      semaphore.post
    end
    expect(semaphore.try_wait(10)).to equal(semaphore)
    expect_children_to_succeed([pid])
  end

  it "is never observable at 2 while many processes race to post at 1" do
    semaphore = described_class.new(1)
    outcome = ProcessShared::SharedMemory.new(:int, 3) # successes, refusals, 2s seen
    start = ProcessShared::Semaphore.new(0)
    observer = fork_child do
      start.wait
      deadline = monotonic_now + 0.5
      while monotonic_now < deadline
        value = semaphore.value
        outcome.put_int(8, outcome.get_int(8) + 1) unless [0, 1].include?(value)
      end
    end
    racers = Array.new(8) do
      fork_child do
        start.wait
        deadline = monotonic_now + 0.5
        while monotonic_now < deadline
          begin
            semaphore.post
            outcome.put_int(0, 1) # a post at 1 succeeded
          rescue ProcessShared::ProcessError
            nil
          end
        end
      end
    end
    9.times { start.post }
    expect_children_to_succeed(racers + [observer])
    expect(outcome.get_int(0)).to eq(0)
    expect(outcome.get_int(8)).to eq(0)
    expect(semaphore.value).to eq(1)
  end

  it "lets exactly one of many racing processes post at 0" do
    semaphore = described_class.new(0)
    successes = ProcessShared::Semaphore.new(0)
    start = ProcessShared::Semaphore.new(0)
    racers = Array.new(8) do
      fork_child do
        start.wait
        begin
          semaphore.post
          successes.post
        rescue ProcessShared::ProcessError
          nil
        end
      end
    end
    8.times { start.post }
    expect_children_to_succeed(racers)
    expect(successes.value).to eq(1)
    expect(semaphore.value).to eq(1)
  end

  it "synchronize returns the block's value and posts even when the block raises" do
    semaphore = described_class.new
    expect(semaphore.synchronize { :done }).to eq(:done)
    expect { semaphore.synchronize { raise EOFError } }.to raise_error(EOFError)
    expect(semaphore.value).to eq(1)
  end

  it "opens, closes and then raises ClosedError" do
    closed = described_class.open { |semaphore| semaphore }
    expect(closed).to be_closed
    expect { closed.value }.to raise_error(ProcessShared::ClosedError)
  end
end
