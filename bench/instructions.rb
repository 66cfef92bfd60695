# frozen_string_literal: true

# Targets 1, 2 and 5, and the atomic counters, in instructions per operation, counted by valgrind's
# callgrind: unlike wall-clock time on a shared 2-core machine, the count is
# the same from run to run. Each figure is (instructions of a program doing
# N operations - instructions of the same program doing none) / N, so it
# includes the Ruby loop around the operation. Skipped where valgrind is
# missing. BENCH_ONLY=undo runs only the comparisons whose title contains
# "undo".

require_relative "support"
require "open3"
require "tmpdir"

OPERATIONS = Integer(ENV.fetch("BENCH_OPERATIONS", "100000"))

SETUP = <<~RUBY
  require "process_shared"
  require "ffi"
  require "monitor"
  thread_mutex = Thread::Mutex.new
  core_monitor = Monitor.new
  monitor = ProcessShared::Monitor.new
  binary = ProcessShared::BinarySemaphore.new(1)
  mutex = ProcessShared::Mutex.new
  semaphore = ProcessShared::Semaphore.new(1)
  facade = ProcessShared::Semaphore.new(1).to_mtx
  undo = ProcessShared::Semaphore.new(1, undo: true)
  rwlock = ProcessShared::ReadWriteLock.new
  memory = ProcessShared::SharedMemory.new(:int64, 4)
  array = ProcessShared::SharedArray.new(:int64, 4)
  pointer = FFI::MemoryPointer.new(:int64, 4)
  require "concurrent"
  require "raindrops"
  fixnum = Concurrent::AtomicFixnum.new
  drops = Raindrops.new(1)
  atomic = ProcessShared::AtomicInteger.new
RUBY

COMPARISONS = {
  "synchronize {}" => { "Thread::Mutex" => "thread_mutex.synchronize {}",
                        "ProcessShared::Mutex" => "mutex.synchronize {}",
                        "Semaphore" => "semaphore.synchronize {}",
                        "Semaphore#to_mtx" => "facade.synchronize {}",
                        "BinarySemaphore" => "binary.synchronize {}" },
  "Monitor#synchronize {}" => { "::Monitor" => "core_monitor.synchronize {}",
                                "ProcessShared::Monitor" => "monitor.synchronize {}" },
  "lock+unlock" => { "Thread::Mutex" => "thread_mutex.lock; thread_mutex.unlock",
                     "ProcessShared::Mutex" => "mutex.lock; mutex.unlock",
                     "Semaphore#wait+post" => "semaphore.wait; semaphore.post",
                     "Semaphore#to_mtx" => "facade.lock; facade.unlock",
                     "BinarySemaphore#wait+post" => "binary.wait; binary.post" },
  "undo wait+post" => { "Semaphore#wait+post" => "semaphore.wait; semaphore.post",
                        "Semaphore(undo: true)#wait+post" => "undo.wait; undo.post" },
  "with_read_lock {}" => { "Thread::Mutex#synchronize" => "thread_mutex.synchronize {}",
                           "ReadWriteLock#with_read_lock" => "rwlock.with_read_lock {}",
                           "ReadWriteLock#with_write_lock" => "rwlock.with_write_lock {}" },
  "get_int64" => { "FFI::MemoryPointer#get_int64" => "pointer.get_int64(8)",
                   "SharedMemory#get_int64" => "memory.get_int64(8)",
                   "SharedArray#[]" => "array[1]",
                   # Ruby's own cost of calling a one-argument C method
                   # (this one compares two words): no reader can go below it.
                   "BasicObject#equal? (floor)" => "pointer.equal?(8)" },
  "put_int64" => { "FFI::MemoryPointer#put_int64" => "pointer.put_int64(8, 5)",
                   "SharedMemory#put_int64" => "memory.put_int64(8, 5)",
                   "SharedArray#[]=" => "array[1] = 5" },
  "increment" => { "Concurrent::AtomicFixnum#increment" => "fixnum.increment",
                   "Raindrops#incr" => "drops.incr(0)",
                   "AtomicInteger#increment" => "atomic.increment",
                   "SharedArray#increment" => "array.increment(1)" }
}.freeze

# The issue's speed targets: entry => its largest ratio to the baseline.
TARGETS = {
  "undo wait+post" => { "Semaphore(undo: true)#wait+post" => 1.3 },
  "with_read_lock {}" => { "ReadWriteLock#with_read_lock" => 1.3 }
}.freeze

def instructions(code, count)
  Dir.mktmpdir do |dir|
    script = File.join(dir, "ops.rb")
    File.write(script, "#{SETUP}\ni = 0\nwhile i < #{count}\n  #{code}\n  i += 1\nend\n")
    output, status = Open3.capture2e("valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                                     RbConfig.ruby, "-I", File.expand_path("../lib", __dir__), script)
    raise "valgrind failed:\n#{output}" unless status.success?

    Integer(output[/Collected : (\d+)/, 1])
  end
end

unless system("valgrind --version", out: File::NULL, err: File::NULL)
  puts "valgrind is not installed: no instruction counts"
  exit
end

Bench.banner
startup = instructions("nil", 0) # the setup alone, the same for every entry
only = ENV.fetch("BENCH_ONLY", "") # a part of the titles to run, e.g. "undo"
COMPARISONS.each do |title, entries|
  next unless title.include?(only)

  baseline = entries.keys.first
  costs = entries.transform_values { |code| (instructions(code, OPERATIONS) - startup).fdiv(OPERATIONS) }
  Bench.table("#{title}: instructions per operation (callgrind)", baseline, costs, unit: "instr")
  TARGETS.fetch(title, {}).each { |entry, ratio| Bench.target(costs, entry, baseline, ratio) }
end
