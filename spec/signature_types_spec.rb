# frozen_string_literal: true

require_relative "support/public_api"
require_relative "support/signatures"
require_relative "../rakelib/typed_accessors"

# Real calls of every public method, each checked against its signature in
# sig/process_shared.rbs (arguments, block, result), so that the declared
# types say what the methods really return. Each example also fails if a
# public method of its class was not called: a new method needs a call here.
RSpec.describe "the types in sig/process_shared.rbs" do
  include Signatures::Calls

  def expect_signatures_to_hold(*namespaces)
    expect(signature_mismatches).to be_empty, signature_mismatches.join("\n")
    namespaces.each do |namespace|
      expect(unchecked_methods(namespace)).to be_empty, "not called for #{namespace}: #{unchecked_methods(namespace)}"
    end
  end

  it "hold for Semaphore, BinarySemaphore and Open" do
    semaphore = check(ProcessShared::Semaphore, :open, 2, singleton: true)
    check(semaphore, :wait)
    check(semaphore, :try_wait)
    check(semaphore, :try_wait, raises: Errno::EAGAIN)
    check(semaphore, :try_wait, 0.01, raises: Errno::ETIMEDOUT)
    check(semaphore, :post)
    check(semaphore, :try_wait, 1)
    check(semaphore, :value)
    check(semaphore.post, :synchronize) { :inside }
    check(semaphore, :to_mtx)
    check(semaphore, :waiting)
    check(semaphore, :inspect)
    check(semaphore, :close)
    check(semaphore, :closed?)
    check(ProcessShared::Semaphore, :open, singleton: true, &:value)
    check(ProcessShared::Semaphore, :open, 1, type: ProcessShared::Open) { :opened }

    binary = check(ProcessShared::BinarySemaphore, :open, 0, singleton: true)
    check(binary, :post)
    check(binary, :post, raises: ProcessShared::ProcessError)
    check(binary, :value)
    check(binary, :wait)
    check(binary, :try_wait, raises: Errno::EAGAIN)
    check(binary, :try_wait, 0.01, raises: Errno::ETIMEDOUT)
    check(binary.post, :try_wait)
    check(binary.post, :synchronize) { 1 }
    check(binary, :inspect)
    check(binary, :close)
    check(binary, :closed?)

    expect_signatures_to_hold(ProcessShared::Semaphore, ProcessShared::BinarySemaphore, ProcessShared::Open)
  end

  it "hold for SemaphoreMutex" do
    mutex = check(ProcessShared::SemaphoreMutex, :open, ProcessShared::Semaphore.new(1), singleton: true)
    check(mutex, :lock)
    check(mutex, :locked?)
    check(mutex, :try_lock)
    check(mutex, :try_lock, 0.01)
    check(mutex, :sleep, 0.01)
    check(mutex, :unlock)
    check(mutex, :synchronize) { :inside }
    check(mutex, :inspect)
    check(mutex, :close)
    check(mutex, :closed?)
    check(ProcessShared::SemaphoreMutex, :open, ProcessShared::Semaphore.new, singleton: true, &:locked?)

    expect_signatures_to_hold(ProcessShared::SemaphoreMutex)
  end

  it "hold for Mutex, ConditionVariable, woken and timed out" do
    mutex = check(ProcessShared::Mutex, :open, singleton: true)
    condition = check(ProcessShared::ConditionVariable, :open, singleton: true)
    check(mutex, :lock)
    check(mutex, :lock, raises: ProcessShared::ProcessError)
    check(mutex, :locked?)
    check(mutex, :owned?)
    check(mutex, :previous_owner_died?)
    check(mutex, :try_lock)
    check(mutex, :sleep, 0.01)
    check(condition, :wait, mutex, 0.01)
    signalled = false
    # Can lock only once #wait has released the mutex.
    signaller = Thread.new { mutex.synchronize { check(condition, :signal).tap { signalled = true } } }
    check(condition, :wait, mutex) until signalled
    signaller.join
    check(condition, :broadcast)
    check(mutex, :unlock)
    check(mutex, :unlock, raises: ProcessShared::ProcessError)
    check(mutex, :try_lock, 1)
    mutex.unlock
    sleeper = Thread.new { mutex.synchronize { check(mutex, :sleep) } }
    wake_until_done(sleeper)
    check(mutex, :synchronize) { :inside }
    check(condition, :waiting)
    check(condition, :inspect)
    check(mutex, :owner_pid)
    check(mutex, :waiting)
    check(mutex, :inspect)
    check(condition, :close)
    check(condition, :closed?)
    check(mutex, :close)
    check(mutex, :closed?)
    check(ProcessShared::Mutex, :open, singleton: true, &:locked?)
    check(ProcessShared::ConditionVariable, :open, singleton: true, &:closed?)

    expect_signatures_to_hold(ProcessShared::Mutex, ProcessShared::ConditionVariable)
  end

  it "hold for Monitor, MonitorMixin and their conditions" do
    monitor = check(ProcessShared::Monitor, :open, singleton: true)
    %i[enter mon_enter lock].each { |name| check(monitor, name) }
    %i[try_enter mon_try_enter try_mon_enter try_lock].each { |name| check(monitor, name) }
    check(monitor, :try_enter, 0.01)
    check(monitor, :mon_locked?)
    check(monitor, :mon_owned?)
    check(monitor, :mon_check_owner)
    check(monitor, :previous_owner_died?)
    %i[exit mon_exit unlock].each { |name| check(monitor, name) }
    5.times { monitor.exit }
    check(monitor, :exit, raises: ProcessShared::ProcessError)
    check(monitor, :mon_check_owner, raises: ProcessShared::ProcessError)
    check(monitor, :synchronize) { :inside }
    check(monitor, :mon_synchronize) { :inside }
    condition = check(monitor, :new_cond)
    monitor.synchronize do
      check(monitor, :wait_for_cond, ProcessShared::ConditionVariable.new, 0.01)
      check(condition, :wait, 0.01)
      check(condition, :signal)
      check(condition, :broadcast)
      check(condition, :wait_until) { true }
      signalled = false
      # Can enter only once #wait_while has released the monitor.
      signaller = Thread.new { monitor.synchronize { check(condition, :signal).tap { signalled = true } } }
      check(condition, :wait_while) { !signalled }
      signaller.join
    end
    check(condition, :signal, raises: ProcessShared::ProcessError)
    check(monitor, :owner_pid)
    check(monitor, :waiting)
    check(monitor, :inspect)
    check(monitor, :close)
    check(monitor, :closed?)
    check(ProcessShared::Monitor, :open, singleton: true, &:mon_locked?)

    mixin = ProcessShared::MonitorMixin
    object = Object.new
    check(mixin, :extend_object, object, singleton: true)
    check(object, :mon_enter, type: mixin)
    check(object, :mon_try_enter, type: mixin)
    check(object, :try_mon_enter, type: mixin)
    check(object, :mon_locked?, type: mixin)
    check(object, :mon_owned?, type: mixin)
    check(object, :mon_previous_owner_died?, type: mixin)
    3.times { check(object, :mon_exit, type: mixin) }
    check(object, :mon_exit, type: mixin, raises: ProcessShared::ProcessError)
    check(object, :mon_synchronize, type: mixin) { :inside }
    check(object, :synchronize, type: mixin) { :inside }
    check(object, :new_cond, type: mixin)
    check(object, :mon_closed?, type: mixin)
    check(object, :mon_close, type: mixin)

    expect_signatures_to_hold(ProcessShared::Monitor, mixin, mixin::ConditionVariable)
  end

  it "hold for SharedMemory and its Mapping, with every typed accessor" do
    TypedAccessors.types.each do |type|
      name = type.name
      memory = ProcessShared::SharedMemory.new(name.to_sym, 4)
      value = type.float? ? 1.5 : 1
      check(memory, :"put_#{name}", 0, value)
      check(memory, :"get_#{name}", 0)
      check(memory, :"write_#{name}", 2) if type.float? # an Integer, as a Float
      check(memory, :"write_#{name}", value)
      check(memory, :"read_#{name}")
      check(memory, :"put_array_of_#{name}", memory.type_size, [value, value])
      check(memory, :"get_array_of_#{name}", 0, 3)
      check(memory, :"write_array_of_#{name}", [value])
      check(memory, :"read_array_of_#{name}", 4)
      check(memory, :"get_#{name}", memory.size, raises: IndexError)
    end

    memory = check(ProcessShared::SharedMemory, :open, 64, singleton: true)
    check(ProcessShared::SharedMemory, :open, :int, 2, singleton: true, &:size)
    check(memory, :size)
    check(memory, :type)
    check(memory, :type_size)
    check(memory, :count)
    check(memory, :put_bytes, 0, "abcdef", 1, 3)
    check(memory, :get_bytes, 0, 3)
    check(memory, :write_bytes, "xyz")
    check(memory, :read_bytes, 3)
    check(memory, :put_string, 8, "text")
    check(memory, :get_string, 8)
    check(memory, :put_object, 16, { list: [1, 2.5] })
    check(memory, :get_object, 16)
    check(memory, :write_object, :symbol)
    check(memory, :read_object)
    check(memory, :get_object, 48, raises: TypeError)
    check(memory, :to_ptr, raises: NotImplementedError) unless defined?(FFI::Pointer)
    mapping = memory.send(:mapping)
    check(mapping, :address)
    check(mapping, :size)
    check(memory, :close)
    check(memory, :inspect)
    check(memory, :closed?)
    check(memory, :to_ptr, raises: ProcessShared::ClosedError)

    expect_signatures_to_hold(ProcessShared::SharedMemory, ProcessShared::SharedMemory::Mapping)
  end

  it "hold for SharedMemory#to_ptr with FFI loaded" do
    require "ffi" # ruby-ffi, installed by bin/setup

    check(ProcessShared::SharedMemory.new(8), :to_ptr)
    expect(signature_mismatches).to be_empty, signature_mismatches.join("\n")
  end

  it "hold for SharedArray and the Enumerable it includes" do
    array = check(ProcessShared::SharedArray, :open, :int, 3, singleton: true)
    check(ProcessShared::SharedArray, :open, 2, singleton: true, &:to_a)
    check(array, :[]=, 0, 5)
    check(array, :[]=, -1, 7)
    check(array, :[], 0)
    check(array, :[], 3, raises: IndexError)
    check(array, :each) { |value| value }
    check(array, :each)
    check(array, :count)
    check(array, :count, 5)
    check(array, :count, &:positive?)
    check(array, :to_a)
    check(array, :size)
    check(array, :length)
    check(array, :map) { |value| value * 2 }
    check(array, :each_with_index) { |value, _index| value }
    doubles = ProcessShared::SharedArray.new(:double, 2)
    check(doubles, :[]=, 1, 2.5)
    check(doubles, :[], 1)
    check(doubles, :to_a)
    check(array, :increment, 0)
    check(array, :increment, 0, 2)
    check(array, :decrement, 1)
    check(array, :decrement, 1, -2)
    check(array, :compare_and_set, 0, 8, 9)
    check(array, :compare_and_set, 0, 8, 9)
    check(array, :get_and_set, 0, 1)
    check(array, :swap, 0, 2)
    check(array, :update, 0) { |value| value + 1 }
    check(array, :max!, 0, 10)
    check(array, :min!, 0, -10)
    check(doubles, :increment, 0, raises: TypeError)

    expect_signatures_to_hold(ProcessShared::SharedArray)
  end

  it "hold for AtomicInteger" do
    atomic = check(ProcessShared::AtomicInteger, :open, 3, singleton: true)
    check(ProcessShared::AtomicInteger, :open, singleton: true, &:value)
    check(atomic, :value)
    check(atomic, :value=, 4)
    check(atomic, :increment)
    check(atomic, :increment, 2)
    check(atomic, :up)
    check(atomic, :decrement)
    check(atomic, :decrement, 2)
    check(atomic, :down, -1)
    check(atomic, :compare_and_set, 0, 1)
    check(atomic, :compare_and_set, 5, 6)
    check(atomic, :get_and_set, 7)
    check(atomic, :swap, 8)
    check(atomic, :update) { |value| value * 2 }
    check(atomic, :max!, 20)
    check(atomic, :min!, -20)
    atomic.value = (2**63) - 1
    check(atomic, :increment, raises: RangeError)
    check(atomic, :inspect)
    check(atomic, :to_s)
    check(atomic, :close)
    check(atomic, :closed?)
    check(atomic, :inspect)

    expect_signatures_to_hold(ProcessShared::AtomicInteger)
  end

  it "hold for SharedMemoryIO" do
    io = check(ProcessShared::SharedMemoryIO, :new, ProcessShared::SharedMemory.new(8), singleton: true)
    check(io, :inspect)
    check(io, :write, "ab", :c)
    check(io, :<<, 4)
    check(io, :pos)
    check(io, :tell)
    check(io, :pos=, 1)
    check(io, :seek, 1, IO::SEEK_CUR)
    check(io, :seek, -1, :END)
    check(io, :rewind)
    check(io, :read, 2)
    check(io, :read, 2, +"")
    check(io, :read)
    check(io, :read, 1)
    check(io, :read, nil, +"buffer")
    check(io, :getbyte)
    check(io, :getc)
    check(io, :readbyte, raises: EOFError)
    check(io, :readchar, raises: EOFError)
    check(io, :readpartial, 1, raises: EOFError)
    io.rewind
    check(io, :getbyte)
    check(io, :readbyte)
    check(io, :getc)
    check(io, :readchar)
    check(io, :readpartial, 2)
    check(io, :each_byte) { |byte| byte }
    check(io.tap(&:rewind), :each_byte)
    check(io, :eof?)
    check(io, :eof)
    check(io, :binmode)
    check(io, :binmode?)
    check(io, :sync)
    check(io, :sync=, false)
    check(io, :flush)
    check(io, :tty?)
    check(io, :isatty)
    check(io, :memory)
    check(io, :respond_to?, :fileno)
    check(io, :respond_to?, "read", true)
    ProcessShared::SharedMemoryIO::NOT_IMPLEMENTED.each { |name| check(io, name, raises: NotImplementedError) }
    check(io, :close)
    check(io, :closed?)

    expect_signatures_to_hold(ProcessShared::SharedMemoryIO)
  end

  it "hold for the fork hook, called by real forks" do
    # In a child, so that the spy and the extra forks stay out of this process.
    pid = fork_child do
      hook = ProcessShared::ForkHook
      hook.singleton_class.prepend(fork_hook_spy(hook))
      check(hook, :install, singleton: true)
      check(hook, :generation, singleton: true)
      check(hook, :around_fork, singleton: true, raises: RuntimeError) { raise "this fork fails" }
      grandchild = check(Process, :_fork, type: hook::ProcessFork)
      end_grandchild if grandchild.zero?
      status = wait_child(grandchild)
      raise "the grandchild failed: #{status}" unless status.success?
      raise signature_mismatches.join("\n") unless signature_mismatches.empty?

      # after_fork_child runs in the grandchild, which checks it itself.
      unchecked = [hook, hook::ProcessFork].flat_map { |namespace| unchecked_methods(namespace) }
      raise "not called: #{unchecked}" unless unchecked == [".after_fork_child"]
    end
    expect_children_to_succeed([pid])
  end

  # Thread#wakeup only wakes a thread that sleeps already: wakes `thread`
  # until it ends.
  def wake_until_done(thread)
    until thread.join(0.05)
      begin
        thread.wakeup
      rescue ThreadError
        nil # it ended since the join
      end
    end
  end

  # A module that, prepended to the fork hook's singleton class, checks
  # every call that the hook gets.
  def fork_hook_spy(hook)
    test = self
    Module.new do
      %i[before_fork after_fork_parent after_fork_child fork_failed around_fork].each do |name|
        define_method(name) do |*args, &block|
          value = super(*args, &block)
          outcome = test.returned(args, value)
          test.verify_call(hook, test.trace(name, outcome, block_given: !block.nil?), singleton: true)
          value
        rescue StandardError => e
          test.verify_call(hook, test.trace(name, test.raised(args, e), block_given: !block.nil?), singleton: true)
          raise
        end
      end
    end
  end

  # In a grandchild forked above: exits, 1 unless after_fork_child was
  # called and every call kept to its signature.
  def end_grandchild
    problems = signature_mismatches
    if unchecked_methods(ProcessShared::ForkHook).include?(".after_fork_child")
      problems += ["after_fork_child was not called"]
    end
    warn problems.join("\n") unless problems.empty?
    exit!(problems.empty? ? 0 : 1)
  end
end
