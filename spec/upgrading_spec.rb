# frozen_string_literal: true

# The examples of the README of process_shared 0.2.1 (the FFI gem this one
# succeeds), verbatim, run against this gem: code written for it keeps
# working. The README's "Upgrading from process_shared 0.2.1" lists what
# does not.
RSpec.describe "code written for process_shared 0.2.1" do
  lib = File.expand_path("../lib", __dir__)

  # 0.2.1's "Usage" example.
  usage = <<~'RUBY'
    require 'process_shared'

    mutex = ProcessShared::Mutex.new
    mem = ProcessShared::SharedMemory.new(:int)  # extends FFI::Pointer
    mem.put_int(0, 0)

    pid1 = fork do
      puts "in process 1 (#{Process.pid})"
      10.times do
        sleep 0.01
        mutex.synchronize do
          value = mem.get_int(0)
          sleep 0.01
          puts "process 1 (#{Process.pid}) incrementing"
          mem.put_int(0, value + 1)
        end
      end
    end

    pid2 = fork do
      puts "in process 2 (#{Process.pid})"
      10.times do
        sleep 0.01
        mutex.synchronize do
          value = mem.get_int(0)
          sleep 0.01
          puts "process 2 (#{Process.pid}) decrementing"
          mem.put_int(0, value - 1)
        end
      end
    end

    Process.wait(pid1)
    Process.wait(pid2)

    puts "value should be zero: #{mem.get_int(0)}"
  RUBY

  # 0.2.1's "Transfer Objects Across Processes" example; its `must_equal`
  # is minitest's expectation, given here by a stand-in.
  transfer = <<~'RUBY'
    # allocate a sufficient memory block
    mem = ProcessShared::SharedMemory.new(1024)

    # sub process can write (serialize) object to memory (with bounds checking)
    pid = fork do
      mem.write_object(['a', 'b'])
    end

    Process.wait(pid)

    # parent process can read the object back (synchronizing access
    # with a Mutex left as an excercie to reader)

    mem.read_object.must_equal ['a', 'b']
  RUBY

  must_equal = <<~RUBY
    class Object
      def must_equal(expected)
        raise "expected \#{expected.inspect}, got \#{inspect}" unless self == expected

        puts "must_equal \#{expected.inspect}: ok"
      end
    end
  RUBY

  it "runs 0.2.1's usage example unchanged" do
    output = run_command({}, RbConfig.ruby, "-I", lib, "-e", usage, chdir: Dir.tmpdir, timeout: 60)
    expect(output.lines.grep(/incrementing|decrementing/).size).to eq(20)
    expect(output.lines.last).to eq("value should be zero: 0\n")
  end

  it "runs 0.2.1's object transfer example unchanged" do
    script = "require 'process_shared'\n#{must_equal}\n#{transfer}"
    output = run_command({}, RbConfig.ruby, "-I", lib, "-e", script, chdir: Dir.tmpdir, timeout: 60)
    expect(output).to eq("must_equal [\"a\", \"b\"]: ok\n")
  end
end
