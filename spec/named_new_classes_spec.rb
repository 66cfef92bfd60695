# frozen_string_literal: true

require "spec_helper"
require_relative "support/lock_helpers"
require "rbconfig"

# Naming the classes that arrived last: each one is created here and used
# from a Ruby process started on its own (not forked), opened by name.
RSpec.describe "named latches, events and barriers" do
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
end
