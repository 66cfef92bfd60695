# frozen_string_literal: true

require "monitor"

# Locks misused, condition variables given something that is not a lock,
# streams read and moved wrongly, and every method called with the wrong
# number of arguments.
module Battery
  table "lock misuse" do
    ps = ProcessShared
    mutex = ->(f) { f.own(ps::Mutex.new) }
    held = ->(f) { f.own(ps::Mutex.new).lock }
    busy = ->(f) { f.own(ps::Mutex.new).tap { |m| hold_in_other_thread(f, -> { m.lock }, -> { m.unlock }) } }
    monitor = ->(f) { f.own(ps::Monitor.new) }
    busy_monitor = ->(f) { f.own(ps::Monitor.new).tap { |m| hold_in_other_thread(f, -> { m.enter }, -> { m.exit }) } }
    mixed = ->(f) { MixedIn.new.tap { |o| f.defer { o.mon_close } } }
    free = ->(lock) { !lock.locked? }
    owned_once = ->(m) { m.owned? && m.unlock && !m.locked? }
    held_by_other = ->(m) { m.locked? && !m.owned? }
    [
      bad("Mutex#unlock when free", ps::ProcessError, setup: mutex, check: free, &:unlock),
      bad("Mutex#unlock held by another thread", ps::ProcessError, setup: busy, check: held_by_other, &:unlock),
      bad("Mutex#lock when held", ps::ProcessError, setup: held, check: owned_once, &:lock),
      bad("Mutex#synchronize when held", ps::ProcessError, setup: held, check: owned_once) { |m| m.synchronize { 1 } },
      bad("Mutex#sleep when free", ps::ProcessError, setup: mutex, check: free) { |m| m.sleep(0.01) },
      bad("Mutex#sleep held by another thread", ps::ProcessError, setup: busy, check: held_by_other) do |m|
        m.sleep(0.01)
      end,
      bad("Monitor#exit when free", ps::ProcessError, setup: monitor, check: ->(m) { !m.mon_locked? }, &:exit),
      bad("Monitor#exit entered by another thread", ps::ProcessError, setup: busy_monitor, &:exit),
      bad("Monitor#mon_check_owner when free", ps::ProcessError, setup: monitor, &:mon_check_owner),
      bad("MonitorMixin#mon_exit when free", ps::ProcessError, setup: mixed, &:mon_exit),
      bad("MonitorMixin#new_cond.signal when free", ps::ProcessError, setup: mixed) { |o| o.new_cond.signal },
      bad("MonitorMixin#new_cond.broadcast when free", ps::ProcessError, setup: mixed) { |o| o.new_cond.broadcast },
      bad("MonitorMixin#new_cond.wait when free", ps::ProcessError, setup: mixed) { |o| o.new_cond.wait(0.01) },
      bad("Monitor#new_cond.wait_until when free", ps::ProcessError, setup: monitor) do |m|
        m.new_cond.wait_until do
          false
        end
      end,
      bad("BinarySemaphore#post at 1", ps::ProcessError, setup: ->(f) { f.own(ps::BinarySemaphore.new(1)) },
                                                         check: ->(s) { s.value == 1 }, &:post),
      bad("Semaphore#post at the maximum", RangeError, setup: ->(f) { f.own(ps::Semaphore.new((2**31) - 1)) },
                                                       check: ->(s) { s.value == (2**31) - 1 }, &:post),
      bad("Semaphore#try_wait at 0", Errno::EAGAIN, setup: ->(f) { f.own(ps::Semaphore.new(0)) }, &:try_wait),
      bad("Semaphore#try_wait(0) at 0", Errno::ETIMEDOUT, setup: lambda { |f|
                                                                   f.own(ps::Semaphore.new(0))
                                                                 }) { |s| s.try_wait(0) },
      bad("Semaphore#try_wait(0.01) at 0", Errno::ETIMEDOUT, setup: ->(f) { f.own(ps::Semaphore.new(0)) }) do |s|
        s.try_wait(0.01)
      end,
      bad("BinarySemaphore#try_wait at 0", Errno::EAGAIN, setup: lambda { |f|
                                                                   f.own(ps::BinarySemaphore.new(0))
                                                                 }, &:try_wait),
      bad("BinarySemaphore#try_wait(0) at 0", Errno::ETIMEDOUT, setup: lambda { |f|
                                                                         f.own(ps::BinarySemaphore.new(0))
                                                                       }) do |s|
        s.try_wait(0)
      end
    ]
  end

  table "synchronize without a block" do
    ps = ProcessShared
    {
      "Semaphore#synchronize" => [->(f) { f.own(ps::Semaphore.new(1)) }, :synchronize, ->(s) { s.value == 1 }],
      "BinarySemaphore#synchronize" => [->(f) { f.own(ps::BinarySemaphore.new(1)) }, :synchronize, lambda { |s|
                                                                                                     s.value == 1
                                                                                                   }],
      "Mutex#synchronize" => [->(f) { f.own(ps::Mutex.new) }, :synchronize, ->(m) { !m.locked? }],
      "Monitor#synchronize" => [->(f) { f.own(ps::Monitor.new) }, :synchronize, ->(m) { !m.mon_locked? }],
      "Monitor#mon_synchronize" => [->(f) { f.own(ps::Monitor.new) }, :mon_synchronize, ->(m) { !m.mon_locked? }],
      "SemaphoreMutex#synchronize" => [->(f) { f.own(ps::Semaphore.new(1)).to_mtx }, :synchronize, lambda { |m|
                                                                                                     !m.locked?
                                                                                                   }],
      "MonitorMixin#synchronize" => [->(f) { MixedIn.new.tap { |o| f.defer { o.mon_close } } }, :synchronize,
                                     ->(o) { !o.mon_locked? }],
      "MonitorMixin#mon_synchronize" => [->(f) { MixedIn.new.tap { |o| f.defer { o.mon_close } } }, :mon_synchronize,
                                         ->(o) { !o.mon_locked? }]
    }.map do |name, (setup, method, check)|
      bad(name, ThreadError, setup:, check:) { |object| object.public_send(method) }
    end
  end

  table "ConditionVariable#wait with something that is not a held lock" do
    ps = ProcessShared
    not_locks = {
      "an Object" => ->(_) { Object.new }, "nil" => ->(_) {}, "a Thread::Mutex" => lambda { |_|
                                                                                     Thread::Mutex.new.lock
                                                                                   },
      "a Monitor (stdlib)" => ->(_) { ::Monitor.new.tap(&:enter) }, "an Integer" => ->(_) { 1 },
      "a Semaphore" => ->(f) { f.own(ps::Semaphore.new(0)) }, "a BinarySemaphore" => lambda { |f|
                                                                                       f.own(ps::BinarySemaphore.new(0))
                                                                                     },
      "a SemaphoreMutex" => ->(f) { f.own(ps::Semaphore.new(1)).to_mtx.lock },
      "a SharedMemory" => ->(f) { f.own(ps::SharedMemory.new(8)) },
      "a MonitorMixin object" => ->(f) { MixedIn.new.tap { |o| f.defer { o.mon_close } }.tap(&:mon_enter) }
    }.transform_values { |make| [make, TypeError] }
    not_held = {
      "a free Mutex" => [->(f) { f.own(ps::Mutex.new) }, ps::ProcessError],
      "a Mutex held by another thread" => [lambda do |f|
        f.own(ps::Mutex.new).tap { |m| hold_in_other_thread(f, -> { m.lock }, -> { m.unlock }) }
      end, ps::ProcessError],
      "a free Monitor" => [->(f) { f.own(ps::Monitor.new) }, ps::ProcessError],
      "a closed Mutex" => [->(f) { f.own(ps::Mutex.new).tap(&:close) }, ps::ClosedError],
      "an uninitialized Mutex" => [->(_) { ps::Mutex.allocate }, ps::ClosedError],
      "a closed Monitor" => [->(f) { f.own(ps::Monitor.new).tap(&:close) }, ps::ClosedError]
    }
    not_locks.merge(not_held).flat_map do |name, (make, error)|
      setup = ->(f) { [f.own(ps::ConditionVariable.new), make.call(f)] }
      [nil, 0.01].map do |timeout|
        bad("ConditionVariable#wait(#{name}, #{timeout.inspect})", error, setup:,
                                                                          check: lambda { |(cv, _)|
                                                                                   cv.signal && cv.broadcast
                                                                                 }) do |(cv, lock)|
          cv.wait(lock, timeout)
        end
      end
    end
  end

  table "SharedMemoryIO misuse" do
    io = ->(f) { ProcessShared::SharedMemoryIO.new(patterned_memory(f)) }
    at_end = ->(f) { io.call(f).tap { |stream| stream.seek(0, IO::SEEK_END) } }
    unchanged = ->(stream) { stream.memory.get_bytes(0, MEMORY_SIZE) == PATTERN }
    {
      "read(-1)" => [io, ArgumentError, ->(s) { s.read(-1) }],
      "read(-(2**70))" => [io, ArgumentError, ->(s) { s.read(-(2**70)) }],
      "read(\"1\")" => [io, TypeError, ->(s) { s.read("1") }],
      "read(1, 1)" => [io, TypeError, ->(s) { s.read(1, 1) }],
      "read(1, a frozen String)" => [io, FrozenError, ->(s) { s.read(1, "frozen") }],
      "seek(-1)" => [io, Errno::EINVAL, ->(s) { s.seek(-1) }],
      "seek(-(2**70))" => [io, Errno::EINVAL, ->(s) { s.seek(-(2**70)) }],
      "seek(-65, :END)" => [io, Errno::EINVAL, ->(s) { s.seek(-65, :END) }],
      "seek(-1, IO::SEEK_CUR) at 0" => [io, Errno::EINVAL, ->(s) { s.seek(-1, IO::SEEK_CUR) }],
      "seek(0, 99)" => [io, Errno::EINVAL, ->(s) { s.seek(0, 99) }],
      "seek(0, :NOPE)" => [io, Errno::EINVAL, ->(s) { s.seek(0, :NOPE) }],
      "seek(\"1\")" => [io, TypeError, ->(s) { s.seek("1") }],
      "seek(nil)" => [io, TypeError, ->(s) { s.seek(nil) }],
      "pos = -1" => [io, Errno::EINVAL, ->(s) { s.pos = -1 }],
      "pos = nil" => [io, TypeError, ->(s) { s.pos = nil }],
      "write past the end" => [at_end, IndexError, ->(s) { s.write("x") }],
      "write across the end" => [io, IndexError, ->(s) { s.write("x" * (MEMORY_SIZE + 1)) }],
      "write far past the end" => [io, IndexError, ->(s) { (s.pos = 2**64) && s.write("x") }],
      "<< past the end" => [at_end, IndexError, ->(s) { s << "x" }],
      "readbyte at the end" => [at_end, EOFError, :readbyte.to_proc],
      "readchar at the end" => [at_end, EOFError, :readchar.to_proc],
      "readpartial at the end" => [at_end, EOFError, ->(s) { s.readpartial(1) }],
      "readpartial(-1)" => [io, ArgumentError, ->(s) { s.readpartial(-1) }]
    }.map do |name, (setup, error, call)|
      bad("SharedMemoryIO##{name}", error, setup:, check: unchanged, &call)
    end + ProcessShared::SharedMemoryIO::NOT_IMPLEMENTED.map do |name|
      bad("SharedMemoryIO##{name}", NotImplementedError, setup: io, check: unchanged) { |s| s.public_send(name) }
    end
  end

  # The largest number of arguments of methods that take `*args` natively.
  REST_ARITY = { try_wait: 0..1, try_lock: 0..1, sleep: 0..1, put_bytes: 2..4, write_bytes: 1..3,
                 try_enter: 0..1, mon_try_enter: 0..1, try_mon_enter: 0..1 }.freeze

  # The numbers of arguments `name` accepts, or nil if any number.
  def self.arity_range(klass, name)
    return 1..2 if klass <= ProcessShared::ConditionVariable && name == :wait

    parameters = klass.instance_method(name).parameters
    return REST_ARITY[name] if parameters.any? { |type, _| type == :rest }

    required = parameters.count { |type, _| type == :req }
    required..(required + parameters.count { |type, _| type == :opt })
  end

  table "wrong number of arguments" do
    kinds.reject { |kind| kind.name.include?(" over ") || kind.name.include?("(extended)") }.flat_map do |kind|
      klass = kind.name.start_with?("MonitorMixin (") ? MixedIn : ProcessShared.const_get(kind.name.split.first)
      own = kind.api.select do |name|
        klass.instance_method(name).owner.name.to_s.start_with?("ProcessShared", "Battery")
      end
      own.flat_map do |name|
        range = arity_range(klass, name)
        next [] unless range

        counts = [range.max + 1, range.max + 3]
        counts << (range.min - 1) if range.min.positive?
        counts.map do |count|
          bad("#{kind.name}##{name} with #{count} arguments", ArgumentError, setup: kind.make) do |object|
            object.public_send(name, *Array.new(count, 0)) { |*| true }
          end
        end
      end
    end
  end

  table "wrong number of arguments to new" do
    ps = ProcessShared
    {
      "Semaphore.new(1, 1)" => -> { ps::Semaphore.new(1, 1) },
      "BinarySemaphore.new(1, 1)" => -> { ps::BinarySemaphore.new(1, 1) },
      "Mutex.new(1)" => -> { ps::Mutex.new(1) },
      "ConditionVariable.new(1)" => -> { ps::ConditionVariable.new(1) },
      "Monitor.new(1)" => -> { ps::Monitor.new(1) },
      "SharedMemory.new(:int, 1, 1)" => -> { ps::SharedMemory.new(:int, 1, 1) },
      "SharedArray.new(:int, 1, 1)" => -> { ps::SharedArray.new(:int, 1, 1) },
      "SharedMemoryIO.new" => -> { ps::SharedMemoryIO.new },
      "SemaphoreMutex.new" => -> { ps::SemaphoreMutex.new },
      "SemaphoreMutex.new(semaphore, 1)" => -> { ps::SemaphoreMutex.new(ps::Semaphore.new, 1) },
      "MonitorMixin::ConditionVariable.new" => -> { ps::MonitorMixin::ConditionVariable.new },
      "a MonitorMixin class .new(1)" => -> { MixedIn.new(1) },
      "Semaphore.open(1, 1) {}" => -> { ps::Semaphore.open(1, 1) { :opened } },
      "Mutex.open(1) {}" => -> { ps::Mutex.open(1) { :opened } },
      "Semaphore#to_mtx(1)" => -> { ps::Semaphore.new.to_mtx(1) }
    }.map { |name, call| bad(name, ArgumentError) { call.call } }
  end
end
