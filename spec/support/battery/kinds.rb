# frozen_string_literal: true

# Every kind of object the gem makes, how to make, close and allocate one,
# and valid arguments for each of its public methods, so that the lifecycle
# tables can call every method generated from `public_instance_methods`.
module Battery
  # A kind of object: `make.(fixture)` an open one, `close.(object)` close
  # it, `allocate.()` one never initialized, `api` its public methods,
  # `probe.(object)` a call that works on an open one.
  Kind = Struct.new(:name, :make, :close, :allocate, :api, :probe, keyword_init: true)

  # Methods that work on closed objects: closing, asking whether closed, and
  # SharedMemoryIO#memory (the memory itself says whether it is closed).
  ALLOWED_AFTER_CLOSE = %i[close closed? mon_close mon_closed? memory].freeze

  # The monitor each MonitorMixin::ConditionVariable was made by.
  MONITORS = ObjectSpace::WeakMap.new

  # A class that includes the mixin, as the stdlib's documentation shows.
  class MixedIn
    include ProcessShared::MonitorMixin

    attr_reader :items

    def initialize
      super()
      @items = []
    end
  end

  # The public methods of `klass` beyond Object's, minus those allowed on a
  # closed object.
  def self.api_of(klass)
    (klass.public_instance_methods - Object.public_instance_methods - ALLOWED_AFTER_CLOSE).sort
  end

  # Valid arguments for the methods that take some (on an open object).
  ARGS = {
    [0] => %w[get_string get_object [] seek pos=],
    [0, 1] => %w[get_bytes put_object []=],
    [0, "x"] => %w[put_bytes put_string],
    [1] => %w[read_bytes read readpartial each_slice each_cons take drop cycle include? member? write_object],
    ["x"] => %w[write_bytes write <<],
    [Integer] => %w[grep grep_v],
    [[]] => %w[zip each_with_object],
    [0.01] => %w[sleep],
    [true] => %w[sync=]
  }.flat_map { |args, names| names.map { |name| [name, args] } }.to_h.freeze

  # Valid arguments for methods whose arguments differ between kinds.
  KIND_ARGS = {
    "SharedArray" => { "increment" => [0], "decrement" => [0], "compare_and_set" => [0, 0, 1],
                       "get_and_set" => [0, 1], "swap" => [0, 1], "update" => [0], "max!" => [0, 1],
                       "min!" => [0, 1] },
    "AtomicInteger" => { "compare_and_set" => [0, 1], "get_and_set" => [1], "swap" => [1], "max!" => [1],
                         "min!" => [1], "value=" => [1] }
  }.freeze

  # Arguments of the typed accessors, by the start of their names.
  TYPED_ARGS = { "get_array_of_" => [0, 1], "put_array_of_" => [0, [1]], "read_array_of_" => [1],
                 "write_array_of_" => [[1]], "get_" => [0], "put_" => [0, 1], "write_" => [1] }.freeze

  # Valid arguments for `name` (on an open object of any kind).
  def self.args_for(name, fixture)
    name = name.to_s
    return [fixture.own(ProcessShared::ConditionVariable.new), 0.01] if name == "wait_for_cond"

    ARGS.fetch(name) { TYPED_ARGS.find { |prefix, _| name.start_with?(prefix) }&.last || [] }
  end

  # Valid arguments for `wait` of each kind: semaphores take none,
  # ConditionVariable a held mutex and a timeout, a monitor's condition a
  # timeout.
  def self.wait_args(kind, fixture)
    case kind.name
    when "ConditionVariable" then [fixture.own(ProcessShared::Mutex.new).lock, 0.01]
    when "MonitorMixin::ConditionVariable" then [0.01]
    else []
    end
  end

  def self.kinds
    ps = ProcessShared
    native = lambda do |klass, make, probe|
      Kind.new(name: klass.name.split("::").last, make:, close: :close.to_proc, allocate: -> { klass.allocate },
               api: api_of(klass), probe:)
    end
    io_kind = lambda do |name, close|
      Kind.new(name:, make: ->(f) { ps::SharedMemoryIO.new(f.own(ps::SharedMemory.new(MEMORY_SIZE))) }, close:,
               allocate: -> { ps::SharedMemoryIO.allocate }, api: api_of(ps::SharedMemoryIO), probe: :pos.to_proc)
    end
    [
      native.call(ps::Semaphore, ->(f) { f.own(ps::Semaphore.new(1)) }, :value.to_proc),
      native.call(ps::BinarySemaphore, ->(f) { f.own(ps::BinarySemaphore.new(1)) }, :value.to_proc),
      native.call(ps::Mutex, ->(f) { f.own(ps::Mutex.new) }, :locked?.to_proc),
      native.call(ps::ConditionVariable, ->(f) { f.own(ps::ConditionVariable.new) }, :signal.to_proc),
      native.call(ps::Monitor, ->(f) { f.own(ps::Monitor.new) }, :mon_locked?.to_proc),
      native.call(ps::SharedMemory, ->(f) { f.own(ps::SharedMemory.new(MEMORY_SIZE)) }, :size.to_proc),
      native.call(ps::SharedArray, ->(f) { f.own(ps::SharedArray.new(:int, 4)) }, :to_a.to_proc),
      native.call(ps::AtomicInteger, ->(f) { f.own(ps::AtomicInteger.new) }, :value.to_proc),
      native.call(ps::SemaphoreMutex, ->(f) { f.own(f.own(ps::Semaphore.new(1)).to_mtx) }, :locked?.to_proc),
      io_kind.call("SharedMemoryIO", :close.to_proc),
      io_kind.call("SharedMemoryIO over a closed memory", ->(io) { io.memory.close }),
      Kind.new(name: "MonitorMixin (included)", make: ->(f) { MixedIn.new.tap { |o| f.defer { o.mon_close } } },
               close: :mon_close.to_proc, allocate: -> { MixedIn.allocate }, api: api_of(ps::MonitorMixin),
               probe: :mon_locked?.to_proc),
      Kind.new(name: "MonitorMixin (extended)",
               make: ->(f) { Object.new.extend(ps::MonitorMixin).tap { |o| f.defer { o.mon_close } } },
               close: :mon_close.to_proc, allocate: nil, api: api_of(ps::MonitorMixin),
               probe: :mon_locked?.to_proc),
      Kind.new(name: "MonitorMixin::ConditionVariable",
               make: ->(f) { f.own(ps::Monitor.new).then { |m| m.new_cond.tap { |cond| MONITORS[cond] = m } } },
               close: ->(cond) { MONITORS[cond].close },
               allocate: -> { ps::MonitorMixin::ConditionVariable.allocate },
               api: api_of(ps::MonitorMixin::ConditionVariable), probe: nil)
    ]
  end
end
