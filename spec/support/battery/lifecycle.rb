# frozen_string_literal: true

# Objects used after close, never initialized, copied, dumped, initialized
# twice, subclassed without `super`, or called with the wrong number of
# arguments.
module Battery
  def self.method_args(kind, name, fixture)
    return wait_args(kind, fixture) if name == :wait

    KIND_ARGS.dig(kind.name, name.to_s) || args_for(name, fixture)
  end

  # MonitorMixin#new_cond sets the monitor up when it is not yet (as the
  # stdlib's does, for classes that make conditions before `super()`).
  def self.sets_itself_up?(kind, name)
    kind.name.start_with?("MonitorMixin (") && name == :new_cond
  end

  table "every public method after close" do
    kinds.flat_map do |kind|
      kind.api.map do |name|
        setup = lambda do |fixture|
          object = kind.make.call(fixture)
          args = method_args(kind, name, fixture)
          kind.close.call(object)
          [object, args]
        end
        bad("#{kind.name}##{name} after close", ProcessShared::ClosedError, setup:) do |(object, args)|
          invoke(object, name, args)
        end
      end
    end
  end

  table "every public method of an object never initialized (Class#allocate)" do
    kinds.select(&:allocate).flat_map do |kind|
      kind.api.reject { |name| sets_itself_up?(kind, name) }.map do |name|
        setup = ->(fixture) { [kind.allocate.call, method_args(kind, name, fixture)] }
        bad("#{kind.name}.allocate.#{name}", ProcessShared::ClosedError, setup:) do |(object, args)|
          invoke(object, name, args)
        end
      end
    end
  end

  NATIVE_CLASSES = %w[Semaphore BinarySemaphore Mutex ConditionVariable Monitor SharedMemory SharedArray
                      SemaphoreMutex AtomicInteger].freeze

  # The kinds made by native classes, which own a shared resource.
  def self.native_kinds
    kinds.select { |kind| NATIVE_CLASSES.include?(kind.name) }
  end

  table "copies of closed or uninitialized objects" do
    native_kinds.flat_map do |kind|
      closed = ->(fixture) { kind.make.call(fixture).tap { |object| kind.close.call(object) } }
      uninitialized = ->(_) { kind.allocate.call }
      [
        bad("#{kind.name}: dup of a closed one", ProcessShared::ClosedError, setup: closed, &:dup),
        bad("#{kind.name}: clone of a closed one", ProcessShared::ClosedError, setup: closed, &:clone),
        bad("#{kind.name}: clone(freeze: true) of a closed one", ProcessShared::ClosedError, setup: closed) do |object|
          object.clone(freeze: true)
        end,
        bad("#{kind.name}: dup of an uninitialized one", ProcessShared::ClosedError, setup: uninitialized, &:dup),
        bad("#{kind.name}: clone of an uninitialized one", ProcessShared::ClosedError, setup: uninitialized, &:clone)
      ]
    end
  end

  table "Marshal.dump" do
    kinds.flat_map do |kind|
      states = { "open" => ->(fixture) { kind.make.call(fixture) },
                 "closed" => ->(fixture) { kind.make.call(fixture).tap { |object| kind.close.call(object) } } }
      states["uninitialized"] = ->(_) { kind.allocate.call } if NATIVE_CLASSES.include?(kind.name)
      states.map do |state, setup|
        bad("Marshal.dump of an #{state} #{kind.name}", TypeError, setup:) { |object| Marshal.dump(object) }
      end
    end + [
      bad("Marshal.dump of a SharedMemory::Mapping", TypeError,
          setup: ->(f) { f.own(ProcessShared::SharedMemory.new(8)).send(:mapping) }) { |mapping| Marshal.dump(mapping) }
    ]
  end

  # Argument lists for a second `initialize` of each native kind.
  def self.initialize_args(kind)
    case kind.name
    when "Semaphore", "BinarySemaphore" then [->(_) { [] }, ->(_) { [1] }]
    when "SharedMemory" then [->(_) { [8] }, ->(_) { [:int, 2] }]
    when "SharedArray" then [->(_) { [:int, 4] }, ->(_) { [8] }]
    when "SemaphoreMutex" then [->(f) { [f.own(ProcessShared::Semaphore.new(1))] }]
    else [->(_) { [] }]
    end
  end

  table "initialize called again" do
    native_kinds.flat_map do |kind|
      %w[open closed].flat_map do |state|
        initialize_args(kind).map do |make_args|
          setup = lambda do |fixture|
            object = kind.make.call(fixture)
            kind.close.call(object) if state == "closed"
            [object, make_args.call(fixture)]
          end
          check = ->((object, _)) { state == "closed" ? object.closed? : kind.probe.call(object) || true }
          bad("#{kind.name}: initialize again on an #{state} one", TypeError, setup:, check:) do |(object, args)|
            object.send(:initialize, *args)
          end
        end
      end
    end + %i[initialize mon_initialize].map do |name|
      bad("MonitorMixin: #{name} again", ThreadError, setup: ->(_) { MixedIn.new }, check: lambda { |o|
                                                                                             !o.mon_locked?
                                                                                           }) do |object|
        object.send(name)
      end
    end
  end

  table "subclasses whose initialize does not call super" do
    native_kinds.flat_map do |kind|
      subclass = Class.new(ProcessShared.const_get(kind.name)) { define_method(:initialize) { |*| nil } }
      kind.api.map do |name|
        setup = ->(fixture) { [subclass.new(1), method_args(kind, name, fixture)] }
        bad("subclass of #{kind.name} without super: #{name}", ProcessShared::ClosedError, setup:) do |(object, args)|
          invoke(object, name, args)
        end
      end
    end
  end
end
