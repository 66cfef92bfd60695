# frozen_string_literal: true

require "open3"
require "rbconfig"

# Ractors: `fork` keeps working in any Ractor, and the shared objects belong
# to the main Ractor: from another one, every use raises a Ruby exception.
# Each example runs in a fresh `ruby` (Ractors warn, and a crash must fail
# the example rather than the run).
RSpec.describe "process_shared and Ractors" do
  lib = File.expand_path("../lib", __dir__)

  # Runs `script` after `require "process_shared"` in a new ruby, killed
  # after `timeout` seconds; returns [stdout, stderr, Process::Status].
  def run_ruby(lib, script, timeout: 30)
    command = [RbConfig.ruby, "-W:no-experimental", "-I", lib, "-rprocess_shared", "-e", script]
    Open3.popen3(*command) do |stdin, stdout, stderr, waiter|
      stdin.close
      output = Thread.new { stdout.read }
      errors = Thread.new { stderr.read }
      unless waiter.join(timeout)
        Process.kill(:KILL, waiter.pid)
        raise "ruby subprocess did not finish within #{timeout}s"
      end
      [output.value, errors.value, waiter.value]
    end
  end

  it "lets a non-main Ractor fork, with every form of fork" do
    output, errors, status = run_ruby(lib, <<~RUBY)
      p Ractor.new { fork { exit!(4) }; Process.wait2[1].exitstatus }.take
      p Ractor.new { pid = Process.fork { exit!(5) }; Process.wait(pid); $?.exitstatus }.take
      p Ractor.new { IO.popen("-") { |io| io ? io.read : print("child") } }.take
      generation = ProcessShared::ForkHook.generation
      p Ractor.new { ProcessShared::ForkHook.generation }.take == generation
    RUBY
    expect(status.exitstatus).to eq(0), errors
    expect(output.lines(chomp: true)).to eq(["4", "5", "\"child\"", "true"])
  end

  it "raises Ractor::UnsafeError, and never crashes, when a non-main Ractor uses an object" do
    output, errors, status = run_ruby(lib, <<~RUBY)
      def outcome(ractor)
        ractor.take
        "no error"
      rescue Ractor::RemoteError => e
        e.cause.class.name
      end

      mutex = ProcessShared::Mutex.new
      memory = ProcessShared::SharedMemory.new(:int)
      memory.put_int(0, 7)
      # A handle passed to a Ractor is copied (`clone`): another handle on
      # the same shared object, which that Ractor cannot use.
      puts outcome(Ractor.new(mutex) { |copy| copy.lock })
      puts outcome(Ractor.new(memory) { |copy| copy.get_int(0) })
      puts outcome(Ractor.new { ProcessShared::Semaphore.new(1) })
      puts outcome(Ractor.new { ProcessShared::SharedArray.new(:int, 2) })
      counter = ProcessShared::AtomicInteger.new(3)
      puts outcome(Ractor.new(counter) { |copy| copy.increment })
      # The main Ractor's objects are untouched.
      puts [mutex.locked?, mutex.try_lock, memory.get_int(0)].inspect
    RUBY
    expect(status.exitstatus).to eq(0), errors
    expect(output.lines(chomp: true)).to eq(
      ["Ractor::UnsafeError", "Ractor::UnsafeError", "Ractor::UnsafeError", "Ractor::UnsafeError",
       "Ractor::UnsafeError", "[false, true, 7]"]
    )
  end

  it "keeps AtomicInteger's counting methods to the main Ractor, which counts on once Ractors exist" do
    # Those methods are defined Ractor-safe and check the caller's Ractor
    # themselves: the checks must refuse what Ruby's would.
    output, errors, status = run_ruby(lib, <<~RUBY)
      def outcome(ractor)
        "no error: \#{ractor.take.inspect}"
      rescue Ractor::RemoteError => e
        e.cause.class.name
      end

      counter = ProcessShared::AtomicInteger.new(3)
      %i[increment decrement up down value].each do |name|
        puts outcome(Ractor.new(counter, name) { |copy, method| copy.public_send(method) })
      end
      puts outcome(Ractor.new(counter) { |copy| copy.increment(2) })
      puts outcome(Ractor.new { ProcessShared::AtomicInteger.allocate.increment })
      p [counter.increment, counter.decrement(5), counter.up, counter.down, counter.value]
      p((counter.increment(2**64) rescue $!.class))
    RUBY
    expect(status.exitstatus).to eq(0), errors
    expect(output.lines(chomp: true)).to eq(
      (["Ractor::UnsafeError"] * 7) + ["[4, -1, 0, -1, -1]", "RangeError"]
    )
  end

  it "cannot make an object shareable" do
    output, errors, status = run_ruby(lib, <<~RUBY)
      begin
        Ractor.make_shareable(ProcessShared::Mutex.new)
        puts "shareable"
      rescue Ractor::Error => e
        puts e.class
      end
    RUBY
    expect(status.exitstatus).to eq(0), errors
    expect(output).to eq("Ractor::Error\n")
  end
end
