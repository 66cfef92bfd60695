# frozen_string_literal: true

require_relative "support/lock_helpers"

RSpec.describe "ProcessShared::Semaphore#to_mtx" do
  let!(:semaphore) { ProcessShared::Semaphore.new(1) }
  let!(:mtx) { semaphore.to_mtx }

  it_behaves_like "an exclusive lock across processes and threads" do
    let(:critical_section) { mtx.method(:synchronize) }
  end

  it "is a SemaphoreMutex over the same semaphore" do
    expect(mtx).to be_a(ProcessShared::SemaphoreMutex)
    expect(mtx.lock).to equal(mtx)
    expect(semaphore.value).to eq(0)
    expect(mtx.unlock).to equal(mtx)
    expect(semaphore.value).to eq(1)
  end

  it "try_lock returns true or false and locked? does not acquire" do
    expect(mtx).not_to be_locked
    expect(mtx.try_lock).to be true
    expect(mtx).to be_locked
    expect(mtx.try_lock).to be false
    expect(semaphore.value).to eq(0)
    expect(mtx.try_lock(0.05)).to be false
    mtx.unlock
    expect(mtx.try_lock(0.05)).to be true
    mtx.unlock
  end

  it "makes no owner checks: another process may unlock it" do
    mtx.lock
    pid = fork_child { mtx.unlock }
    expect_children_to_succeed([pid])
    expect(mtx).not_to be_locked
  end

  it "synchronize returns the block's value and posts even when the block raises" do
    expect(mtx.synchronize { 7 }).to eq(7)
    expect { mtx.synchronize { raise KeyError } }.to raise_error(KeyError)
    expect(semaphore.value).to eq(1)
  end

  it "sleep unlocks, sleeps and locks again" do
    mtx.lock
    expect(mtx.sleep(0.05)).to be_nil
    expect(semaphore.value).to eq(0)
    sleeper = Thread.new { mtx.sleep }
    wait_until_blocked(sleeper)
    expect(semaphore.value).to eq(1)
    sleeper.wakeup
    expect(sleeper.value).to be_an(Integer)
    expect(semaphore.value).to eq(0)
    mtx.unlock
  end

  it "treats a sleep timeout too long for Kernel#sleep as no timeout, as every other wait does" do
    [1e19, 1e20, 2**64, Float::INFINITY].each do |timeout|
      sleeper = Thread.new { mtx.synchronize { mtx.sleep(timeout) } }
      wait_until_blocked(sleeper)
      expect(semaphore.value).to eq(1)
      sleeper.wakeup
      expect(sleeper.value).to be_an(Integer)
      expect(semaphore.value).to eq(1)
    end
  end

  it "closes its own handle only" do
    mtx.close
    expect(mtx).to be_closed
    expect { mtx.lock }.to raise_error(ProcessShared::ClosedError)
    expect(semaphore.value).to eq(1)
    expect(semaphore).not_to be_closed
  end
end
