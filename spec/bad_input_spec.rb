# frozen_string_literal: true

require "rbconfig"
# Enumerable#to_set comes with `set`: load it here and in the fresh
# interpreter below, so both count the same public methods.
require "set"
require_relative "support/battery"

# Wrong calls of every kind (spec/support/battery/*.rb): each must raise the
# exception the README and the YARD docs name, and none may crash the
# interpreter.
RSpec.describe "bad input" do
  describe "the battery of wrong calls" do
    Battery.cases.group_by { |kase| kase.name[/\A[^:]+/] }.each do |table, cases|
      it "#{table}: each of #{cases.size} calls raises what it should and changes nothing" do
        expect(Battery.run(cases)).to eq([])
      end
    end

    it "runs whole in a forked child, which neither crashes nor finds a call that misbehaves" do
      pid = fork_child do
        failures = Battery.run
        raise "#{failures.size} calls misbehaved:\n#{failures.first(20).join("\n")}" unless failures.empty?
      end
      status = wait_child(pid, timeout: 120)
      expect(status.signaled?).to be(false), "the child died of signal #{status.termsig}"
      expect(status.exitstatus).to eq(0)
    end

    it "runs whole in a fresh interpreter without RSpec, twice, which exits 0" do
      battery = File.expand_path("support/battery", __dir__)
      script = "2.times { failures = Battery.run; abort(failures.first(20).join(\"\\n\")) unless failures.empty? }; " \
               "puts Battery.cases.size"
      output = run_command({}, RbConfig.ruby, "-I", File.expand_path("../lib", __dir__), "-r", "set", "-r", battery,
                           "-e", script,
                           chdir: __dir__, timeout: 120)
      expect(Integer(output)).to eq(Battery.cases.size)
    end
  end

  # name => [a fresh open object, a call that shows the shared state]
  shared_objects = {
    ProcessShared::Semaphore => [-> { ProcessShared::Semaphore.new(2) }, ->(o) { o.wait && o.value }],
    ProcessShared::BinarySemaphore => [-> { ProcessShared::BinarySemaphore.new(1) }, ->(o) { o.wait && o.value }],
    ProcessShared::Mutex => [-> { ProcessShared::Mutex.new }, ->(o) { o.lock && o.locked? }],
    ProcessShared::Monitor => [-> { ProcessShared::Monitor.new }, ->(o) { o.enter || o.mon_locked? }],
    ProcessShared::SharedMemory => [-> { ProcessShared::SharedMemory.new(8) }, lambda { |o|
                                                                                 o.put_int(0, 9) && o.get_int(0)
                                                                               }],
    ProcessShared::SharedArray => [-> { ProcessShared::SharedArray.new(:int, 2) }, ->(o) { (o[1] = 9) && o.to_a }],
    ProcessShared::SemaphoreMutex => [-> { ProcessShared::Semaphore.new(1).to_mtx }, ->(o) { o.lock && o.locked? }],
    ProcessShared::UndoSemaphore => [-> { ProcessShared::Semaphore.new(2, undo: true) }, ->(o) { o.wait && o.value }],
    ProcessShared::ReadWriteLock => [-> { ProcessShared::ReadWriteLock.new }, lambda(&:acquire_write_lock)]
  }
  # What each object shows after `change` was called on a copy.
  changed_state = {
    ProcessShared::Semaphore => ->(o) { o.value == 1 }, ProcessShared::BinarySemaphore => ->(o) { o.value.zero? },
    ProcessShared::Mutex => lambda(&:locked?), ProcessShared::Monitor => lambda(&:mon_locked?),
    ProcessShared::SharedMemory => ->(o) { o.get_int(0) == 9 }, ProcessShared::SharedArray => lambda { |o|
                                                                                                o.to_a == [0, 9]
                                                                                              },
    ProcessShared::SemaphoreMutex => lambda(&:locked?),
    ProcessShared::UndoSemaphore => ->(o) { o.value == 1 }, ProcessShared::ReadWriteLock => lambda(&:write_locked?)
  }

  describe "dup and clone share the shared object (as IO#dup shares the file)" do
    shared_objects.each do |klass, (make, change)|
      it "#{klass.name.split('::').last}: a copy is the same shared object, and closing either leaves the other open" do
        original = make.call
        %i[dup clone].each do |copy_method|
          copy = original.public_send(copy_method)
          expect(copy).to be_an_instance_of(klass)
          expect(copy).not_to be_closed
          copy.close
          expect(copy).to be_closed
          expect(original).not_to be_closed
        end
        copy = original.dup
        change.call(copy)
        expect(changed_state.fetch(klass).call(original)).to be(true)
        original.close
        expect(copy).not_to be_closed
        expect { copy.dup.close }.not_to raise_error
        copy.close
      end

      it "#{klass.name.split('::').last}: clone(freeze: true) is a frozen copy that still works" do
        original = make.call
        frozen = original.clone(freeze: true)
        expect(frozen).to be_frozen
        expect(original).not_to be_frozen
        change.call(frozen)
        expect(changed_state.fetch(klass).call(original)).to be(true)
        frozen.close
        expect(frozen).to be_closed
        original.close
      end
    end

    it "ConditionVariable: a copy wakes the waiters of the original" do
      mutex = ProcessShared::Mutex.new
      condition = ProcessShared::ConditionVariable.new
      copy = condition.dup
      waiter = Thread.new { mutex.synchronize { condition.wait(mutex, 10) } }
      sleep 0.01 until waiter.status == "sleep"
      mutex.synchronize { copy.signal }
      expect(waiter.value).not_to be_nil
      copy.close
      expect(condition).not_to be_closed
    ensure
      [mutex, condition].each(&:close)
    end

    it "SharedMemoryIO: a copy shares the memory, has its own position, and closes alone" do
      memory = ProcessShared::SharedMemory.new(8)
      io = ProcessShared::SharedMemoryIO.new(memory)
      io.write("ab")
      copy = io.dup
      copy.write("cd")
      expect(io.pos).to eq(2)
      expect(io.read(2)).to eq("cd")
      copy.close
      expect(io).not_to be_closed
      expect(io.rewind && io.read(4)).to eq("abcd")
    ensure
      memory.close
    end

    it "a MonitorMixin object: a copy (clone: dup drops what extend added) shares the monitor" do
      object = Object.new.extend(ProcessShared::MonitorMixin)
      copy = object.clone
      copy.mon_enter
      expect(object).to be_mon_locked
      expect(object).to be_mon_owned
      copy.mon_exit
      object.mon_close
    end
  end

  describe "subclasses" do
    subclassed = {
      ProcessShared::Semaphore => [[1], ->(o) { o.wait.post.value }, 1],
      ProcessShared::BinarySemaphore => [[0], ->(o) { o.post.value }, 1],
      ProcessShared::Mutex => [[], ->(o) { o.synchronize { o.owned? } }, true],
      ProcessShared::ConditionVariable => [[], ->(o) { o.signal.broadcast.equal?(o) }, true],
      ProcessShared::Monitor => [[], ->(o) { o.synchronize { o.synchronize { o.mon_owned? } } }, true],
      ProcessShared::SharedMemory => [[:int, 2], ->(o) { o.put_int(4, -3).get_int(4) }, -3],
      ProcessShared::SharedArray => [[:double, 2], ->(o) { (o[-1] = 1.5) && o.to_a }, [0.0, 1.5]],
      ProcessShared::SemaphoreMutex => [[ProcessShared::Semaphore.new(1)], ->(o) { o.synchronize { o.locked? } }, true],
      ProcessShared::UndoSemaphore => [[1], ->(o) { o.wait.post.value }, 1],
      ProcessShared::ReadWriteLock => [[], ->(o) { o.with_write_lock { o.write_locked? } }, true],
      ProcessShared::SharedMemoryIO => [[ProcessShared::SharedMemory.new(4)], lambda { |o|
                                                                                o.write("xy") && o.rewind && o.read(2)
                                                                              },
                                        "xy"]
    }

    subclassed.each do |klass, (args, use, result)|
      name = klass.name.split("::").last

      it "of #{name} work, with or without an initialize of their own that calls super" do
        plain = Class.new(klass)
        extended = Class.new(klass) do
          attr_reader :extra

          define_method(:initialize) do |*given|
            super(*given)
            @extra = :set
          end
        end
        [plain, extended].each do |subclass|
          object = subclass.new(*args)
          expect(object).to be_a(klass)
          expect(use.call(object)).to eq(result)
          expect(object.dup).to be_an_instance_of(subclass)
          object.close
          expect { use.call(object) }.to raise_error(ProcessShared::ClosedError)
        end
        expect(extended.new(*args).extra).to eq(:set)
      end
    end

    it "of Mutex and Monitor are accepted by ConditionVariable#wait, and of SharedMemory by SharedMemoryIO" do
      condition = ProcessShared::ConditionVariable.new
      mutex = Class.new(ProcessShared::Mutex).new
      monitor = Class.new(ProcessShared::Monitor).new
      expect(mutex.synchronize { condition.wait(mutex, 0.01) }).to be_nil
      expect(monitor.synchronize { condition.wait(monitor, 0.01) }).to be_nil
      memory = Class.new(ProcessShared::SharedArray).new(:uint8, 3)
      expect(ProcessShared::SharedMemoryIO.new(memory).read).to eq("\0\0\0")
    end

    it "of a class including MonitorMixin work when initialize calls super()" do
      base = Class.new do
        include ProcessShared::MonitorMixin

        attr_reader :ready

        def initialize
          super()
          @ready = true
        end
      end
      object = Class.new(base).new
      expect(object.ready).to be(true)
      expect(object.synchronize { object.mon_owned? }).to be(true)
      object.mon_close
      expect(object).to be_mon_closed
      expect { object.mon_enter }.to raise_error(ProcessShared::ClosedError)
    end
  end

  describe "the methods allowed on closed and uninitialized objects" do
    Battery.kinds.each do |kind|
      predicate = kind.name.start_with?("MonitorMixin (") ? :mon_closed? : :closed?
      predicate = nil if kind.name == "MonitorMixin::ConditionVariable"

      it "#{kind.name}: closing twice never raises#{', and closed? tells' if predicate}" do
        fixture = Battery::Fixture.new
        object = kind.make.call(fixture)
        expect(object.public_send(predicate)).to be(false) if predicate
        2.times { expect(kind.close.call(object)).to be_nil }
        expect(object.public_send(predicate)).to be(true) if predicate
        if kind.allocate && predicate
          uninitialized = kind.allocate.call
          expect(uninitialized.public_send(predicate)).to be(false)
          expect(uninitialized.public_send(predicate == :closed? ? :close : :mon_close)).to be_nil
        end
      ensure
        fixture&.cleanup
      end
    end
  end

  describe "timeouts that are not errors" do
    it "Float::INFINITY and huge values mean no limit; 0 means do not wait" do
      semaphore = ProcessShared::Semaphore.new(2)
      expect(semaphore.try_wait(Float::INFINITY)).to equal(semaphore)
      expect(semaphore.try_wait(2**100)).to equal(semaphore)
      expect { semaphore.try_wait(0) }.to raise_error(Errno::ETIMEDOUT)
      mutex = ProcessShared::Mutex.new
      expect(mutex.try_lock(Float::INFINITY)).to be(true)
      expect(mutex.try_lock(1e300)).to be(false) # held by the caller: false at once, as try_lock
      mutex.unlock
      monitor = ProcessShared::Monitor.new
      expect(monitor.try_enter(Float::INFINITY)).to be(true)
      monitor.exit
    ensure
      [semaphore, mutex, monitor].compact.each(&:close)
    end

    it "Float::INFINITY waits until another thread releases the lock" do
      mutex = ProcessShared::Mutex.new
      semaphore = ProcessShared::Semaphore.new(0)
      locked = Queue.new
      holder = Thread.new do
        mutex.lock
        locked << true
        sleep 0.2
        semaphore.post
        mutex.unlock
      end
      locked.pop
      expect(semaphore.try_wait(Float::INFINITY)).to equal(semaphore)
      expect(mutex.try_lock(Float::INFINITY)).to be(true)
      mutex.unlock
      holder.join
    ensure
      [mutex, semaphore].each(&:close)
    end
  end

  describe "SharedMemoryIO#initialize called again" do
    it "points the stream at the new memory, as StringIO#initialize does" do
      first = ProcessShared::SharedMemory.new(2).tap { |m| m.put_bytes(0, "ab") }
      second = ProcessShared::SharedMemory.new(2).tap { |m| m.put_bytes(0, "cd") }
      io = ProcessShared::SharedMemoryIO.new(first)
      io.read(1)
      io.send(:initialize, second)
      expect([io.pos, io.read, io.memory]).to eq([0, "cd", second])
    ensure
      [first, second].each(&:close)
    end
  end
end
