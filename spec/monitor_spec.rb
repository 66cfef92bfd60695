# frozen_string_literal: true

require "monitor"
require_relative "support/lock_helpers"

RSpec.describe ProcessShared::Monitor do
  subject!(:monitor) { described_class.new }

  it_behaves_like "an exclusive lock across processes and threads" do
    let(:critical_section) { monitor.method(:synchronize) }
  end

  it "has the methods and aliases of Ruby's Monitor" do
    expect(described_class.public_instance_methods).to include(*::Monitor.public_instance_methods(false))
    expect(described_class.public_instance_methods).to include(:lock, :unlock, :try_lock)
  end

  it "is reentrant: released after as many exits as enters" do
    expect(monitor.enter).to be_nil
    monitor.mon_enter
    monitor.lock
    expect(monitor.try_enter).to be true
    3.times do
      monitor.exit
      expect(monitor).to be_mon_owned
    end
    expect(monitor.mon_exit).to be_nil
    expect(monitor).not_to be_mon_locked
  end

  it "synchronizes reentrantly and returns the block's value" do
    expect(monitor.synchronize { monitor.mon_synchronize { :deep } }).to eq(:deep)
    expect(monitor).not_to be_mon_locked
    expect { monitor.synchronize { raise IOError } }.to raise_error(IOError)
    expect(monitor).not_to be_mon_locked
  end

  it "raises ProcessError when exited by a thread that does not own it" do
    expect { monitor.exit }.to raise_error(ProcessShared::ProcessError)
    expect { monitor.mon_check_owner }.to raise_error(ProcessShared::ProcessError)
    monitor.enter
    other = quiet_thread { monitor.exit }
    expect { other.join }.to raise_error(ProcessShared::ProcessError)
    expect(monitor).to be_mon_owned
    monitor.exit
  end

  it "stays with its owner across processes: a child can neither exit nor enter the parent's monitor" do
    monitor.enter
    monitor.enter
    step = ProcessShared::Semaphore.new(0)
    back = ProcessShared::Semaphore.new(0)
    pid = fork_child do
      raise "child owns the parent's monitor" if monitor.mon_owned?
      raise "child does not see the monitor locked" unless monitor.mon_locked?
      raise "child entered a held monitor" if monitor.try_enter

      begin
        monitor.exit
        raise "child exited the parent's monitor"
      rescue ProcessShared::ProcessError
        nil
      end
      back.post
      step.wait # the parent has exited once of twice
      raise "entered after one exit of two" if monitor.try_enter

      back.post
      step.wait # the parent has exited twice
      raise "could not enter a released monitor" unless monitor.try_enter

      monitor.synchronize { raise "not reentrant in the child" unless monitor.mon_owned? }
      monitor.exit
    end
    back.wait
    monitor.exit
    step.post
    back.wait
    monitor.exit
    step.post
    expect_children_to_succeed([pid])
    expect(monitor).not_to be_mon_locked
  end

  it "try_enter with a timeout waits for another process" do
    locked = ProcessShared::Semaphore.new(0)
    pid = fork_child do
      monitor.enter
      locked.post
      sleep 0.2
      monitor.exit
    end
    locked.wait
    expect(monitor.try_enter).to be false
    expect(monitor.try_enter(10)).to be true
    monitor.exit
    expect_children_to_succeed([pid])
  end

  it "is taken over, depth reset, when its owner process dies" do
    pid = fork_child do
      monitor.enter
      monitor.enter
    end
    expect_children_to_succeed([pid])
    monitor.enter
    expect(monitor.previous_owner_died?).to be true
    monitor.exit
    expect(monitor).not_to be_mon_locked
  end

  it "closes, and raises ClosedError afterwards" do
    monitor.close
    expect(monitor).to be_closed
    expect { monitor.enter }.to raise_error(ProcessShared::ClosedError)
  end

  describe "#new_cond" do
    it "waits releasing every level of the monitor and comes back at the same depth" do
      cond = monitor.new_cond
      flag = ProcessShared::SharedMemory.new(:int)
      pid = fork_child do
        sleep 0.1
        monitor.synchronize do
          flag.put_int(0, 1)
          cond.signal
        end
      end
      monitor.synchronize do
        monitor.synchronize do
          cond.wait_until { flag.get_int(0) == 1 }
          expect(monitor).to be_mon_owned
        end
        expect(monitor).to be_mon_owned
      end
      expect(monitor).not_to be_mon_locked
      expect_children_to_succeed([pid])
    end

    it "returns true when signalled and false on timeout, as MonitorMixin::ConditionVariable" do
      cond = monitor.new_cond
      expect(monitor.synchronize { cond.wait(0.05) }).to be false
      waiter = Thread.new { monitor.synchronize { cond.wait(10) } }
      wait_until_blocked(waiter)
      monitor.synchronize { cond.signal }
      expect(waiter.value).to be true
    end

    it "requires the caller to own the monitor" do
      cond = monitor.new_cond
      expect { cond.wait(0.01) }.to raise_error(ProcessShared::ProcessError)
      expect { cond.signal }.to raise_error(ProcessShared::ProcessError)
      expect { cond.broadcast }.to raise_error(ProcessShared::ProcessError)
    end
  end
end

RSpec.describe ProcessShared::MonitorMixin do
  let(:mixin_class) do
    Class.new do
      include ProcessShared::MonitorMixin

      attr_reader :name

      def initialize(name)
        super()
        @name = name
      end
    end
  end

  it "is set up by extend" do
    buffer = [].extend(described_class)
    expect(buffer.synchronize { buffer.mon_owned? }).to be true
    expect(buffer.mon_enter).to be_nil
    expect(buffer.mon_try_enter).to be true
    expect(buffer.try_mon_enter).to be true
    3.times { buffer.mon_exit }
    expect(buffer).not_to be_mon_locked
    expect { buffer.mon_exit }.to raise_error(ProcessShared::ProcessError)
  end

  it "is set up by include with super() in initialize" do
    account = mixin_class.new("savings")
    expect(account.name).to eq("savings")
    expect(account.mon_synchronize { account.mon_locked? }).to be true
    expect(account.mon_locked?).to be false
  end

  it "refuses a second initialization" do
    account = mixin_class.new("x")
    expect { account.__send__(:mon_initialize) }.to raise_error(ThreadError, /already initialized/)
  end

  it "works as the stdlib's consumer/producer example, across processes" do
    buffer = ProcessShared::SharedMemory.new(:int, 2) # [0]: item, [1]: 1 when full
    buffer.extend(described_class)
    empty_cond = buffer.new_cond
    full_cond = buffer.new_cond
    items = 200
    consumer = fork_child do
      sum = 0
      items.times do
        buffer.mon_synchronize do
          empty_cond.wait_while { buffer.get_int(4).zero? }
          sum += buffer.get_int(0)
          buffer.put_int(4, 0)
          full_cond.signal
        end
      end
      raise "consumed #{sum}" unless sum == (1..items).sum
    end
    (1..items).each do |item|
      buffer.mon_synchronize do
        full_cond.wait_while { buffer.get_int(4) == 1 }
        buffer.put_int(0, item)
        buffer.put_int(4, 1)
        empty_cond.signal
      end
    end
    expect_children_to_succeed([consumer])
  end

  it "broadcasts to every process waiting on a condition" do
    state = ProcessShared::SharedMemory.new(:int, 2) # [0]: waiting, [1]: go
    state.extend(described_class)
    cond = state.new_cond
    pids = Array.new(5) do
      fork_child do
        state.synchronize do
          state.put_int(0, state.get_int(0) + 1)
          cond.wait_until { state.get_int(4) == 1 }
        end
      end
    end
    eventually { state.synchronize { state.get_int(0) == 5 } }
    state.synchronize do
      state.put_int(4, 1)
      cond.broadcast
    end
    expect_children_to_succeed(pids, timeout: 10)
  end
end
