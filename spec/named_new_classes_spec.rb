# frozen_string_literal: true

require "spec_helper"
require_relative "support/lock_helpers"
require "rbconfig"
require "process_shared/undo_semaphore"

# Naming the classes that arrived last: each one is created here and used
# from a Ruby process started on its own (not forked), opened by name.
RSpec.describe "named latches, events, barriers, read-write locks, undo semaphores and queues" do
  include ForkHelper

  linux = RUBY_PLATFORM.include?("linux")

  def ours_in_dev_shm
    Dir.children("/dev/shm").grep(/\Arbps\./).sort
  end

  def unique_name
    @unique_counter = (@unique_counter || 0) + 1
    "specnew#{Process.pid}x#{@unique_counter}"
  end

  # Starts `code` in a new Ruby (ARGV[0] is `name`); reaped after the
  # example whatever happens.
  def spawn_ruby(code, name)
    lib = File.expand_path("../lib", __dir__)
    pid = Process.spawn(RbConfig.ruby, "-I", lib, "-rprocess_shared", "-e", code, name)
    forked_pids << pid
    pid
  end

  # Runs `code` in a new Ruby and returns its exit status (killed and
  # failing at the deadline).
  def run_ruby(code, name)
    wait_child(spawn_ruby(code, name), timeout: 20)
  end

  let(:name) { unique_name }

  around do |example|
    before = linux ? ours_in_dev_shm : []
    example.run
    reap_forked_children
    expect(ours_in_dev_shm).to eq(before) if linux
  end

  after { ProcessShared::Event.unlink(name) }

  describe ProcessShared::CountDownLatch do
    it "is counted down by another process, keeps its count on opening, checks create:" do
      expect { ProcessShared::CountDownLatch.new(2, name:, create: false) }.to raise_error(Errno::ENOENT)
      latch = ProcessShared::CountDownLatch.new(2, name:, create: :exclusive)
      expect { ProcessShared::CountDownLatch.new(2, name:, create: :exclusive) }.to raise_error(Errno::EEXIST)
      expect(ProcessShared::CountDownLatch.new(9, name:).count).to eq(2)
      status = run_ruby(<<~RUBY, name)
        latch = ProcessShared::CountDownLatch.new(name: ARGV[0], create: false)
        2.times { latch.count_down }
        exit!(latch.count)
      RUBY
      expect(status.exitstatus).to eq(0)
      expect(latch.wait(5)).to be(true)
      expect { ProcessShared::Event.new(name:) }.to raise_error(TypeError, /CountDownLatch/)
    end
  end

  describe ProcessShared::Event do
    it "is set by another process, checks create:" do
      expect { ProcessShared::Event.new(name:, create: false) }.to raise_error(Errno::ENOENT)
      event = ProcessShared::Event.new(name:, create: :exclusive)
      expect { ProcessShared::Event.new(name:, create: :exclusive) }.to raise_error(Errno::EEXIST)
      status = run_ruby(<<~RUBY, name)
        event = ProcessShared::Event.new(name: ARGV[0], create: false)
        event.set
        exit!(event.set? ? 0 : 1)
      RUBY
      expect(status.exitstatus).to eq(0)
      expect(event.wait(5)).to be(true)
      expect(ProcessShared::Event.new(name:).set?).to be(true)
      expect { ProcessShared::Barrier.new(2, name:) }.to raise_error(TypeError, /Event/)
    end
  end

  describe ProcessShared::Barrier do
    it "trips with a party in another process, checks create: and its parties" do
      expect { ProcessShared::Barrier.new(2, name:, create: false) }.to raise_error(Errno::ENOENT)
      barrier = ProcessShared::Barrier.new(2, name:, create: :exclusive)
      expect { ProcessShared::Barrier.new(2, name:, create: :exclusive) }.to raise_error(Errno::EEXIST)
      expect { ProcessShared::Barrier.new(3, name:) }.to raise_error(ArgumentError)
      pid = spawn_ruby(<<~RUBY, name)
        barrier = ProcessShared::Barrier.new(2, name: ARGV[0], create: false)
        exit!(barrier.wait(10) + 10)
      RUBY
      index = barrier.wait(10)
      status = wait_child(pid, timeout: 20)
      expect([index, status.exitstatus - 10].sort).to eq([0, 1])
    end
  end

  describe ProcessShared::ReadWriteLock do
    it "is locked by another process and recovered when it dies holding it, checks create:" do
      expect { ProcessShared::ReadWriteLock.new(name:, create: false) }.to raise_error(Errno::ENOENT)
      lock = ProcessShared::ReadWriteLock.new(name:, create: :exclusive)
      expect { ProcessShared::ReadWriteLock.new(name:, create: :exclusive) }.to raise_error(Errno::EEXIST)
      lock.acquire_read_lock
      status = run_ruby(<<~RUBY, name)
        lock = ProcessShared::ReadWriteLock.new(name: ARGV[0], create: false)
        exit!(2) if lock.try_write_lock
        exit!(3) unless lock.try_read_lock
        lock.release_read_lock
        exit!(0)
      RUBY
      expect(status.exitstatus).to eq(0)
      lock.release_read_lock
      status = run_ruby(<<~RUBY, name)
        lock = ProcessShared::ReadWriteLock.new(name: ARGV[0], create: false)
        lock.acquire_write_lock
        exit!(lock.write_locked? ? 0 : 1)
      RUBY
      expect(status.exitstatus).to eq(0)
      expect(lock.try_write_lock(10)).to be(true)
      lock.release_write_lock
    end
  end

  describe ProcessShared::UndoSemaphore do
    it "gets back the units of another process that died holding them, checks create:" do
      expect { ProcessShared::Semaphore.new(1, undo: true, name:, create: false) }.to raise_error(Errno::ENOENT)
      semaphore = ProcessShared::Semaphore.new(1, undo: true, name:, create: :exclusive)
      expect(semaphore).to be_a(ProcessShared::UndoSemaphore)
      expect { ProcessShared::Semaphore.new(1, undo: true, name:, create: :exclusive) }.to raise_error(Errno::EEXIST)
      expect(ProcessShared::Semaphore.new(5, undo: true, name:).value).to eq(1)
      expect { ProcessShared::Semaphore.new(1, name:) }.to raise_error(TypeError, /UndoSemaphore/)
      status = run_ruby(<<~RUBY, name)
        semaphore = ProcessShared::Semaphore.new(undo: true, name: ARGV[0], create: false)
        semaphore.wait
        exit!(semaphore.value)
      RUBY
      expect(status.exitstatus).to eq(0)
      expect { semaphore.try_wait(10) }.not_to raise_error
      semaphore.post
    end
  end

  describe ProcessShared::Queue do
    it "carries items from one program to another, closes for both, checks create:, mode: and bytes:" do
      expect { ProcessShared::Queue.new(name:, create: false) }.to raise_error(Errno::ENOENT)
      queue = ProcessShared::Queue.new(bytes: 4096, name:, create: :exclusive, mode: 0o640)
      expect(File.stat(queue.path).mode & 0o777).to eq(0o640) if linux
      expect { ProcessShared::Queue.new(bytes: 4096, name:, create: :exclusive) }.to raise_error(Errno::EEXIST)
      expect { ProcessShared::Queue.new(bytes: 8192, name:) }
        .to raise_error(ArgumentError, /4096 u8.*not 8192 u8/)
      expect { ProcessShared::SizedQueue.new(2, bytes: 4096, name:) }
        .to raise_error(TypeError, /is a ProcessShared::Queue, not a ProcessShared::SizedQueue/)
      consumer = spawn_ruby(<<~RUBY, name)
        queue = ProcessShared::Queue.new(bytes: 4096, name: ARGV[0], create: false)
        items = []
        while (item = queue.pop(timeout: 20))
          items << item
        end
        exit!(queue.closed? && items == (1..200).map { |n| [n, "job"] } ? 0 : 1)
      RUBY
      producer = spawn_ruby(<<~RUBY, name)
        queue = ProcessShared::Queue.new(bytes: 4096, name: ARGV[0], create: false)
        (1..200).each { |n| queue.push([n, "job"]) }
        exit!(0)
      RUBY
      expect(wait_child(producer, timeout: 20).exitstatus).to eq(0)
      queue.close
      expect(wait_child(consumer, timeout: 20).exitstatus).to eq(0)
      expect(queue.pop).to be_nil
    end
  end

  describe ProcessShared::SizedQueue do
    it "keeps the creator's max, blocks another program's push at it, and is not a Queue" do
      queue = ProcessShared::SizedQueue.new(2, bytes: 4096, name:, create: :exclusive)
      expect { ProcessShared::Queue.new(bytes: 4096, name:) }
        .to raise_error(TypeError, /is a ProcessShared::SizedQueue, not a ProcessShared::Queue/)
      expect(ProcessShared::SizedQueue.new(9, bytes: 4096, name:).max).to eq(2)
      expect { ProcessShared::SizedQueue.new(0, bytes: 4096, name:) }.to raise_error(ArgumentError)
      producer = spawn_ruby(<<~RUBY, name)
        queue = ProcessShared::SizedQueue.new(99, bytes: 4096, name: ARGV[0], create: false)
        exit!(1) unless queue.max == 2
        2.times { |n| queue.push(n) }
        begin
          queue.push(:third, true)
          exit!(2)
        rescue ThreadError # full at the creator's max
        end
        queue.push(:third) # waits: the only time this program waits
        queue.close
        exit!(0)
      RUBY
      deadline = monotonic_now + 20
      sleep 0.01 until queue.num_waiting == 1 || monotonic_now > deadline
      expect(queue.size).to eq(2)
      expect(queue.pop(timeout: 20)).to eq(0)
      expect(queue.pop(timeout: 20)).to eq(1)
      expect(queue.pop(timeout: 20)).to eq(:third)
      expect(wait_child(producer, timeout: 20).exitstatus).to eq(0)
      expect(queue.closed?).to be(true)
    end
  end
end
