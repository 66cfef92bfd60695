# frozen_string_literal: true

require "spec_helper"
require_relative "support/lock_helpers"

RSpec.describe ProcessShared::ReadWriteLock do
  let!(:lock) { described_class.new }

  # Forks a child that takes the lock (`:read` or `:write`), tells the
  # parent, then runs the block (which ends it one way or another).
  def holder(side, &ending)
    held = ProcessShared::Semaphore.new(0)
    pid = fork_child do
      side == :read ? lock.acquire_read_lock : lock.acquire_write_lock
      held.post
      ending.call
    end
    held.wait
    pid
  end

  it "has Concurrent::ReadWriteLock's interface" do
    expect(lock.acquire_read_lock).to be(true)
    expect(lock.try_read_lock).to be(true)
    expect(lock.try_write_lock).to be(false)
    expect { lock.acquire_write_lock }.to raise_error(ProcessShared::ProcessError)
    expect { lock.try_write_lock(1) }.to raise_error(ProcessShared::ProcessError)
    expect(lock.release_read_lock).to be(true)
    expect(lock.release_read_lock).to be(true)
    expect { lock.release_read_lock }.to raise_error(ProcessShared::ProcessError)
    expect { lock.release_write_lock }.to raise_error(ProcessShared::ProcessError)
    expect(lock.with_write_lock { lock.write_locked? }).to be(true)
    expect(lock.with_read_lock { :value }).to eq(:value)
    expect(lock.write_locked?).to be(false)
    expect(lock.has_waiters?).to be(false)
    expect(lock.try_write_lock(0.01)).to be(true)
    expect { lock.acquire_read_lock }.to raise_error(ProcessShared::ProcessError)
    expect(lock.try_read_lock).to be(false)
    expect(lock.release_write_lock).to be(true)
    expect { lock.with_read_lock }.to raise_error(ArgumentError)
    expect { lock.try_read_lock(-1) }.to raise_error(ArgumentError)
    expect { lock.try_read_lock("1") }.to raise_error(TypeError)
  end

  it "lets many readers in at once, and no one else beside a writer" do
    reader = holder(:read) { sleep }
    expect(lock.try_read_lock).to be(true)
    lock.release_read_lock
    expect(lock.try_write_lock(0.2)).to be(false)
    Process.kill(:KILL, reader)
    wait_child(reader)
    writer = holder(:write) { sleep }
    expect(lock.try_read_lock(0.2)).to be(false)
    expect(lock.inspect).to eq("#<ProcessShared::ReadWriteLock write locked by #{writer}, 0 waiting>")
    Process.kill(:KILL, writer)
    wait_child(writer)
  end

  it "keeps readers from ever seeing a half-written pair: 8 processes of 2 threads" do
    pair = ProcessShared::SharedArray.new(:int64, 2)
    torn = ProcessShared::SharedArray.new(:int64, 1)
    workers = Array.new(8) do |process|
      fork_child do
        Array.new(2) do |thread|
          Thread.new do
            150.times do |round|
              if (process + thread).even? && (round % 5).zero?
                lock.with_write_lock do
                  pair[0] += 1
                  Thread.pass
                  pair[1] += 1
                end
              else
                lock.with_read_lock do
                  first = pair[0]
                  Thread.pass
                  torn[0] = 1 unless pair[1] == first
                end
              end
            end
          end
        end.each(&:join)
      end
    end
    expect_children_to_succeed(workers)
    expect(torn[0]).to eq(0)
    expect(pair.to_a).to eq([8 * 30, 8 * 30])
    expect(lock.inspect).to eq("#<ProcessShared::ReadWriteLock unlocked, 0 waiting>")
  end

  it "does not starve a writer behind a stream of readers" do
    stop = ProcessShared::SharedArray.new(:int8, 1)
    readers = Array.new(4) do
      fork_child do
        lock.with_read_lock { sleep 0.002 } while stop[0].zero?
      end
    end
    sleep 0.1
    started = monotonic_now
    lock.acquire_write_lock
    waited = monotonic_now - started
    lock.release_write_lock
    stop[0] = 1
    expect_children_to_succeed(readers)
    expect(waited).to be < 5
  end

  it "recovers a SIGKILLed writer's hold for a waiting reader, who is told" do
    pid = holder(:write) { sleep }
    reader = quiet_thread do
      lock.acquire_read_lock
      [monotonic_now, lock.previous_owner_died?].tap { lock.release_read_lock }
    end
    wait_until_blocked(reader)
    killed_at = monotonic_now
    Process.kill(:KILL, pid)
    got_at, told = reader.value
    expect(got_at - killed_at).to be < 1.0
    expect(told).to be(true)
    wait_child(pid)
    lock.with_write_lock { expect(lock.previous_owner_died?).to be(true) }
    lock.with_read_lock { expect(lock.previous_owner_died?).to be(false) }
  end

  it "recovers the holds of readers that ended with exit! for a writer at once" do
    2.times { wait_child(holder(:read) { exit!(0) }) }
    expect(lock.try_write_lock(1)).to be(true)
    expect(lock.previous_owner_died?).to be(false)
    lock.release_write_lock
  end

  it "never takes a hold from a live reader, even a stopped one" do
    pid = holder(:read) { sleep }
    Process.kill(:STOP, pid)
    expect(lock.try_write_lock(0.3)).to be(false)
    expect(lock.try_read_lock).to be(true)
    lock.release_read_lock
    Process.kill(:KILL, pid)
    wait_child(pid)
    expect(lock.try_write_lock(5)).to be(true)
    lock.release_write_lock
  end

  it "releases the holds of a thread that ends" do
    Thread.new { lock.acquire_write_lock }.join
    expect(lock.write_locked?).to be(false)
    Thread.new { lock.acquire_read_lock }.join
    expect(lock.try_write_lock).to be(true)
    lock.release_write_lock
  end

  it "lets readers in again when a waiting writer is interrupted" do
    lock.acquire_read_lock
    writer = quiet_thread { lock.acquire_write_lock }
    wait_until_blocked(writer)
    expect(lock.has_waiters?).to be(true)
    expect(lock.waiting).to eq(1)
    reader = quiet_thread { lock.try_read_lock }
    expect(reader.value).to be(false)
    writer.raise(RuntimeError, "stop")
    expect { writer.join }.to raise_error(RuntimeError, "stop")
    expect(lock.waiting).to eq(0)
    expect(quiet_thread { lock.try_read_lock.tap { lock.release_read_lock } }.value).to be(true)
    expect { Timeout.timeout(0.1) { lock.acquire_write_lock } }.to raise_error(ProcessShared::ProcessError)
    lock.release_read_lock
  end

  it "releases the caller's holds on close and never raises in inspect" do
    lock.acquire_write_lock
    copy = lock.dup
    lock.close
    expect(copy.write_locked?).to be(false)
    expect(lock.inspect).to eq("#<ProcessShared::ReadWriteLock closed>")
    expect { lock.acquire_read_lock }.to raise_error(ProcessShared::ClosedError)
    expect(described_class.allocate.inspect).to eq("#<ProcessShared::ReadWriteLock uninitialized>")
    expect(described_class.open { |opened| opened.with_read_lock { 1 } }).to eq(1)
  end
end
