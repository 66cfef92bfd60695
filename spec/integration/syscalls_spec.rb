# frozen_string_literal: true

require "open3"
require "tmpdir"

# Uncontended operations make no system call: a program doing a million of
# them makes exactly as many system calls as one that does none (counted by
# `strace -f -c`, which bin/setup installs).
RSpec.describe "system calls on the uncontended path", :integration do
  root = File.expand_path("../..", __dir__)
  operations = 1_000_000

  def syscall_counts(root, code)
    Dir.mktmpdir do |dir|
      summary = File.join(dir, "strace.txt")
      output, status = Timeout.timeout(120) do
        Open3.capture2e("strace", "-f", "-c", "-o", summary,
                        RbConfig.ruby, "-I", File.join(root, "lib"), "-rprocess_shared", "-e", code)
      end
      raise "strace failed (#{status.inspect}):\n#{output}\n#{File.read(summary)}" unless status.success?

      File.foreach(summary).filter_map do |line|
        fields = line.split
        [fields.last, Integer(fields[3])] if fields.size >= 5 && fields[3].match?(/\A\d+\z/)
      end.to_h
    end
  end

  baseline_code = "x = 0"

  # A waiter killed while asleep (setup, in both programs) must not make
  # every later uncontended operation wake it with a system call.
  kill_sleeper = lambda do |setup, wait|
    "#{setup}\npid = fork { #{wait} }\nsleep 0.3\nProcess.kill(:KILL, pid)\nProcess.wait(pid)"
  end
  {
    "Mutex#synchronize" => "m = ProcessShared::Mutex.new; N.times { m.synchronize {} }",
    "named Mutex#synchronize" =>
      "m = ProcessShared::Mutex.new(name: \"sc\#{Process.pid}\").tap(&:unlink); N.times { m.synchronize {} }",
    "Mutex#lock + #unlock" => "m = ProcessShared::Mutex.new; N.times { m.lock; m.unlock }",
    "Semaphore#synchronize" => "s = ProcessShared::Semaphore.new(1); N.times { s.synchronize {} }",
    "Semaphore#wait + #post" => "s = ProcessShared::Semaphore.new(1); N.times { s.wait; s.post }",
    "Semaphore(undo: true)#wait + #post" =>
      "s = ProcessShared::Semaphore.new(1, undo: true); N.times { s.wait; s.post }",
    "ReadWriteLock#with_read_lock" => "l = ProcessShared::ReadWriteLock.new; N.times { l.with_read_lock {} }",
    "ReadWriteLock#with_write_lock" => "l = ProcessShared::ReadWriteLock.new; N.times { l.with_write_lock {} }",
    "Semaphore#to_mtx#synchronize" => "m = ProcessShared::Semaphore.new(1).to_mtx; N.times { m.synchronize {} }",
    "BinarySemaphore#synchronize" => "b = ProcessShared::BinarySemaphore.new; N.times { b.synchronize {} }",
    "Monitor#synchronize" => "m = ProcessShared::Monitor.new; N.times { m.synchronize { m.synchronize {} } }",
    "ConditionVariable#signal (no waiter)" => "c = ProcessShared::ConditionVariable.new; N.times { c.signal }",
    # An Integer travels natively: no Ruby object is made, so no GC (which
    # reads the CPU clock) runs either.
    "Queue#push + #pop" => "q = ProcessShared::Queue.new; N.times { q.push(1); q.pop }",
    "Queue#pop(timeout: 0) on an empty queue" => "q = ProcessShared::Queue.new; N.times { q.pop(timeout: 0) }",
    "Barrier#wait (one party)" => "b = ProcessShared::Barrier.new(1); N.times { b.wait }",
    "CountDownLatch#count_down + #wait" =>
      "l = ProcessShared::CountDownLatch.new(1_000_000); N.times { l.count_down; l.count }; l.wait",
    "Event#set + #wait + #reset" => "e = ProcessShared::Event.new; N.times { e.set; e.wait; e.reset }",
    "ConditionVariable#signal after a waiter died asleep" =>
      "#{kill_sleeper.call("c = ProcessShared::ConditionVariable.new\nm = ProcessShared::Mutex.new",
                           'm.synchronize { c.wait(m) }')}\nc.signal; N.times { c.signal }",
    "BinarySemaphore#wait + #post after a waiter died asleep" =>
      "#{kill_sleeper.call('b = ProcessShared::BinarySemaphore.new(0)', 'b.wait')}\nb.post; N.times { b.wait; b.post }",
    "SharedMemory#get_int64 + #put_int64" =>
      "m = ProcessShared::SharedMemory.new(:int64); N.times { |i| m.put_int64(0, m.get_int64(0) + i) }",
    "AtomicInteger#increment" => "a = ProcessShared::AtomicInteger.new; N.times { a.increment }",
    "AtomicInteger mixed (decrement, compare_and_set, swap, update, max!, min!)" =>
      "a = ProcessShared::AtomicInteger.new; (N / 6).times { |i| " \
      "a.decrement; a.compare_and_set(a.value, i); a.swap(i); a.update { |v| v + 1 }; a.max!(i); a.min!(i) }",
    "SharedArray atomics (every integer type)" =>
      "arrays = %i[int8 uint8 int16 uint16 int32 uint32 int64 uint64].map { ProcessShared::SharedArray.new(_1, 2) }; " \
      "(N / 64).times { arrays.each { |a| a.increment(1, 3); a.decrement(-1); a.compare_and_set(0, 0, 0); " \
      "a.swap(0, 0); a.update(0) { |v| v }; a.max!(0, 1); a.min!(0, 0); a.decrement(1, 2) } }"
  }.each do |name, (code, same_ruby_work)|
    it "#{name}: #{operations} calls make no system call" do
      # Objects are created in both programs, so only the loop differs.
      setup, loop_code = code.split("; ", 2)
      baseline = syscall_counts(root, "N = #{operations}; #{setup}; #{same_ruby_work || baseline_code}")
      measured = syscall_counts(root, "N = #{operations}; #{setup}; #{loop_code}")
      # (The killed waiter's own futex calls vary by one or two.)
      expect(measured.fetch("futex", 0)).to be_within(name.include?("died") ? 4 : 0).of(baseline.fetch("futex", 0))
      # A few calls of slack for the allocator growing Ruby's heap.
      expect(measured.fetch("total")).to be_within(20).of(baseline.fetch("total"))
    end
  end
end
