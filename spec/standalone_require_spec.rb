# frozen_string_literal: true

require "rbconfig"

# As the README says, each class can also be required on its own. Each file is loaded
# alone in a fresh interpreter and its class used, waits included; the
# script prints its last value.
RSpec.describe "requiring one class file alone" do
  lib = File.expand_path("../lib", __dir__)

  scripts = {
    "semaphore" => ["s = ProcessShared::Semaphore.new(1); s.wait; s.post; s.to_mtx.synchronize { }; s.value", "1"],
    "binary_semaphore" => ["s = ProcessShared::BinarySemaphore.new(0); s.post; s.try_wait(0.01); s.value", "0"],
    "mutex" => ["m = ProcessShared::Mutex.new; m.synchronize { m.sleep(0.01) }; m.locked?", "false"],
    "condition_variable" => ["m = ProcessShared::Mutex.new; cv = ProcessShared::ConditionVariable.new; " \
                             "m.synchronize { cv.wait(m, 0.01) }; cv.signal; m.locked?", "false"],
    "monitor" => ["m = ProcessShared::Monitor.new; c = m.new_cond; " \
                  "m.synchronize { c.wait(0.01); c.signal }; m.mon_locked?", "false"],
    "monitor_mixin" => ["o = Object.new.extend(ProcessShared::MonitorMixin); c = o.new_cond; " \
                        "o.synchronize { c.wait(0.01); c.signal }; o.mon_locked?", "false"],
    "shared_memory" => ["m = ProcessShared::SharedMemory.new(:int, 16); m.put_int(60, 7); " \
                        "m.write_object([1]); m.read_object + [m.get_int(60)]", "[1, 7]"],
    "shared_array" => ["a = ProcessShared::SharedArray.new(:int, 2); a[-1] = 5; a.to_a", "[0, 5]"],
    "shared_memory_io" => ["io = ProcessShared::SharedMemoryIO.new(ProcessShared::SharedMemory.new(2)); " \
                           "io.write('ab'); io.rewind; io.read", '"ab"'],
    "atomic_integer" => ["a = ProcessShared::AtomicInteger.new(1); a.increment; a.update { |v| v * 3 }", "6"]
  }

  scripts.each do |file, (script, printed)|
    it "process_shared/#{file} works on its own" do
      program = "require 'process_shared/#{file}'; p(begin; #{script}; end)"
      output = run_command({}, RbConfig.ruby, "-W0", "-I", lib, "-e", program, chdir: __dir__, timeout: 60)
      expect(output).to eq("#{printed}\n")
    end
  end
end
