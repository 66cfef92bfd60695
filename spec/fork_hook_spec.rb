# frozen_string_literal: true

require "open3"
require "rbconfig"

# Scripts for the `ruby` subprocesses of the fork hook specs.
module ForkHookScripts
  LIB = File.expand_path("../lib", __dir__)

  # Records, in each process, every call into the native hook, as lines
  # "parent before_fork", "child after_fork_child", ...
  SPY = <<~RUBY
    $stdout.sync = true
    MAIN_PID = Process.pid
    def role
      Process.pid == MAIN_PID ? "parent" : "child"
    end
    ProcessShared::ForkHook.singleton_class.prepend(Module.new do
      %i[before_fork after_fork_child fork_failed].each do |name|
        define_method(name) { puts "\#{role} \#{name}"; super() }
      end
      define_method(:after_fork_parent) { |pid| puts "\#{role} after_fork_parent \#{pid}"; super(pid) }
    end)
  RUBY

  # Another library's `_fork` wrapper, to be prepended before or after ours.
  OTHER_HOOK = <<~RUBY
    module OtherLibraryHook
      def _fork
        puts "\#{role} other before"
        pid = super
        puts "\#{role} other after \#{pid}"
        pid
      end
    end
  RUBY
end

# The hook is global and permanent, so every example that adds its own
# `_fork` wrapper or spy runs in a fresh `ruby` process.
RSpec.describe ProcessShared::ForkHook do
  # Runs `script` in a new `ruby -I lib`, killing it after `timeout` seconds.
  # Returns [stdout lines, stderr, Process::Status].
  def run_ruby(script, timeout: 60)
    Open3.popen3(RbConfig.ruby, "-I", ForkHookScripts::LIB, "-e", script) do |stdin, stdout, stderr, waiter|
      stdin.close
      output = Thread.new { stdout.read }
      errors = Thread.new { stderr.read }
      unless waiter.join(timeout)
        Process.kill(:KILL, waiter.pid)
        raise "ruby subprocess did not finish within #{timeout}s"
      end
      [output.value.lines(chomp: true), errors.value, waiter.value]
    end
  end

  # Runs `script` after requiring process_shared and installing the spy;
  # expects it to succeed and returns its output lines.
  def trace(script, before_require: "")
    lines, errors, status = run_ruby("#{before_require}\nrequire 'process_shared'\n#{ForkHookScripts::SPY}\n#{script}")
    expect(status.exitstatus).to eq(0), "subprocess failed (#{status.inspect}):\n#{errors}"
    lines
  end

  def of(lines, role)
    lines.select { |line| line.start_with?("#{role} ") }.map { |line| line.delete_prefix("#{role} ") }
  end

  def child_pid_in(lines)
    Integer(lines.grep(/\Aparent forked /).first.split.last)
  end

  describe "installation" do
    it "wraps Process._fork once, when any part of the gem is required" do
      expect(Process.singleton_class.ancestors).to include(described_class::ProcessFork)
      lines, errors, status = run_ruby(<<~RUBY)
        require "process_shared/semaphore"
        puts Process.singleton_class.ancestors.count(ProcessShared::ForkHook::ProcessFork)
        require "process_shared"
        require "process_shared/shared_memory"
        ProcessShared::ForkHook.install
        load "process_shared/fork_hook.rb"
        puts Process.singleton_class.ancestors.count(ProcessShared::ForkHook::ProcessFork)
      RUBY
      expect(status.exitstatus).to eq(0), errors
      expect(lines).to eq(%w[1 1])
    end
  end

  describe "every form of fork" do
    it "calls the hook around Kernel#fork with a block, which runs in the child and exits 0" do
      lines = trace(<<~RUBY)
        pid = fork { puts "child block ran" }
        puts "parent forked \#{pid}"
        Process.wait(pid)
        puts "parent status \#{$?.exitstatus}"
      RUBY
      pid = child_pid_in(lines)
      expect(of(lines, "parent")).to eq(["before_fork", "after_fork_parent #{pid}", "forked #{pid}", "status 0"])
      expect(of(lines, "child")).to eq(["after_fork_child", "block ran"])
    end

    it "calls the hook around Kernel#fork without a block, which returns nil in the child" do
      lines = trace(<<~RUBY)
        pid = fork
        if pid.nil?
          puts "child got nil"
          exit!(0)
        end
        puts "parent forked \#{pid}"
        Process.wait(pid)
      RUBY
      pid = child_pid_in(lines)
      expect(of(lines, "parent")).to eq(["before_fork", "after_fork_parent #{pid}", "forked #{pid}"])
      expect(of(lines, "child")).to eq(["after_fork_child", "got nil"])
    end

    it "calls the hook around Process.fork, in both forms" do
      lines = trace(<<~RUBY)
        pid = Process.fork { puts "child block ran" }
        puts "parent forked \#{pid}"
        Process.wait(pid)
        second = Process.fork || (puts("child blockless ran"); exit!(0))
        Process.wait(second)
        puts "parent second \#{second}"
      RUBY
      pid = child_pid_in(lines)
      second = Integer(lines.grep(/\Aparent second /).first.split.last)
      expect(of(lines, "parent")).to eq(
        ["before_fork", "after_fork_parent #{pid}", "forked #{pid}",
         "before_fork", "after_fork_parent #{second}", "second #{second}"]
      )
      expect(of(lines, "child")).to eq(["after_fork_child", "block ran", "after_fork_child", "blockless ran"])
    end

    it "calls the hook around IO.popen('-'), whose child talks through the pipe" do
      lines = trace(<<~RUBY)
        answer = IO.popen("-", "r+") do |io|
          if io
            puts "parent forked \#{io.pid}"
            io.read
          else
            $stdout.write "from the child"
            exit!(0)
          end
        end
        puts "parent read \#{answer.inspect}"
      RUBY
      pid = child_pid_in(lines)
      expect(of(lines, "parent")).to eq(
        ["before_fork", "after_fork_parent #{pid}", "forked #{pid}", 'read "from the child"']
      )
      # The hook ran in the child before popen sent its output to the pipe.
      expect(of(lines, "child")).to eq(["after_fork_child"])
    end
  end

  describe "what fork does besides" do
    it "keeps exit statuses, exceptions in the block and at_exit handlers" do
      lines, errors, status = run_ruby(<<~RUBY)
        require "process_shared"
        $stdout.sync = true
        main = Process.pid
        at_exit { puts "at_exit in \#{Process.pid == main ? 'parent' : 'child'}" }
        statuses = [
          fork { exit 3 },
          fork { exit!(4) },
          fork { raise ArgumentError, "boom in the child" },
          fork { at_exit { puts "child's own at_exit" } }
        ].map { |pid| Process.wait2(pid).last.exitstatus }
        puts "statuses \#{statuses.join(' ')}"
      RUBY
      expect(status.exitstatus).to eq(0), errors
      expect(lines.last(2)).to eq(["statuses 3 4 1 0", "at_exit in parent"])
      # Every child but the one that called exit! ran the inherited handler.
      expect(lines.count("at_exit in child")).to eq(3)
      expect(lines).to include("child's own at_exit")
      expect(errors).to include("boom in the child (ArgumentError)")
    end

    it "lets an exception from fork itself through, and the next fork works" do
      failing = <<~RUBY
        module FailingFork
          def _fork
            raise Errno::EAGAIN, "simulated" if $fail_next_fork
            super
          end
        end
        Process.singleton_class.prepend(FailingFork)
      RUBY
      lines = trace(<<~RUBY, before_require: failing)
        $fail_next_fork = true
        begin
          fork { puts "never" }
        rescue Errno::EAGAIN => e
          puts "parent rescued \#{e.message}"
        end
        $fail_next_fork = false
        pid = fork { puts "child ran" }
        puts "parent forked \#{pid}"
        Process.wait(pid)
      RUBY
      pid = child_pid_in(lines)
      expect(of(lines, "parent")).to eq(
        ["before_fork", "fork_failed", "rescued Resource temporarily unavailable - simulated",
         "before_fork", "after_fork_parent #{pid}", "forked #{pid}"]
      )
      expect(of(lines, "child")).to eq(%w[after_fork_child ran])
    end

    it "still serves the child when another hook raises there" do
      raising = <<~RUBY
        module RaisingInChild
          def _fork
            pid = super
            raise "other hook failed in the child" if pid.zero?
            pid
          end
        end
        Process.singleton_class.prepend(RaisingInChild)
      RUBY
      lines = trace(<<~RUBY, before_require: raising)
        begin
          pid = fork { puts "never" }
          puts "parent forked \#{pid}"
          Process.wait(pid)
          puts "parent status \#{$?.exitstatus}"
        rescue RuntimeError => e
          puts "child rescued \#{e.message}"
          exit!(0)
        end
      RUBY
      pid = child_pid_in(lines)
      expect(of(lines, "parent")).to eq(["before_fork", "after_fork_parent #{pid}", "forked #{pid}", "status 0"])
      expect(of(lines, "child")).to eq(["after_fork_child", "rescued other hook failed in the child"])
    end
  end

  describe "other libraries' _fork hooks" do
    let(:script) do
      <<~RUBY
        value = fork { puts "child block ran" }
        puts "parent forked \#{value}"
        Process.wait(value)
        puts "parent status \#{$?.exitstatus}"
      RUBY
    end

    it "run around ours when prepended after it" do
      lines = trace("#{ForkHookScripts::OTHER_HOOK}\nProcess.singleton_class.prepend(OtherLibraryHook)\n#{script}")
      pid = child_pid_in(lines)
      expect(of(lines, "parent")).to eq(
        ["other before", "before_fork", "after_fork_parent #{pid}", "other after #{pid}",
         "forked #{pid}", "status 0"]
      )
      expect(of(lines, "child")).to eq(["after_fork_child", "other after 0", "block ran"])
    end

    it "run inside ours when prepended before it" do
      # `role` is defined by the spy, after the require; the hook only
      # calls it at fork time.
      lines = trace(script,
                    before_require: "#{ForkHookScripts::OTHER_HOOK}\nProcess.singleton_class.prepend(OtherLibraryHook)")
      pid = child_pid_in(lines)
      expect(of(lines, "parent")).to eq(
        ["before_fork", "other before", "other after #{pid}", "after_fork_parent #{pid}",
         "forked #{pid}", "status 0"]
      )
      expect(of(lines, "child")).to eq(["other after 0", "after_fork_child", "block ran"])
    end
  end

  describe ".generation" do
    it "changes in every child of every fork form and never in the parent" do
      memory = ProcessShared::SharedMemory.new(:uint64, 4)
      before = described_class.generation
      pid = fork_child do
        memory.put_uint64(0, described_class.generation)
        grandchild = fork do
          memory.put_uint64(8, described_class.generation)
          exit!(0)
        end
        Process.wait(grandchild)
        memory.put_uint64(16, described_class.generation)
      end
      expect_children_to_succeed([pid])
      popen = IO.popen("-") do |io|
        next io.read if io

        print described_class.generation
        exit!(0)
      end
      memory.put_uint64(24, Integer(popen))

      child, grandchild, child_after_forking, popen_child = memory.get_array_of_uint64(0, 4)
      expect([child, grandchild, popen_child]).to all(be_an(Integer))
      expect(child).not_to eq(before)
      expect(popen_child).not_to eq(before)
      expect(grandchild).not_to eq(child)
      expect(child_after_forking).to eq(child)
      expect(described_class.generation).to eq(before)
    end
  end

  describe "objects created before fork" do
    it "work in children made by every fork form" do
      semaphore = ProcessShared::Semaphore.new(0)
      memory = ProcessShared::SharedMemory.new(:int, 3)
      pids = []
      pids << fork_child do
        memory.put_int(0, 1)
        semaphore.post
      end
      blockless = Process.fork
      if blockless.nil?
        memory.put_int(4, 2)
        semaphore.post
        exit!(0)
      end
      forked_pids << blockless
      pids << blockless
      IO.popen("-") do |io|
        next io.read if io

        memory.put_int(8, 3)
        semaphore.post
        exit!(0)
      end
      3.times { semaphore.try_wait(10) }
      expect(memory.get_array_of_int(0, 3)).to eq([1, 2, 3])
      expect_children_to_succeed(pids)
    end

    it "work in children forked by several threads at once" do
      semaphore = ProcessShared::Semaphore.new(0)
      pids = Array.new(4) { Thread.new { fork_child { semaphore.post } } }.map(&:value)
      expect_children_to_succeed(pids)
      4.times { expect(semaphore.try_wait(10)).to be(semaphore) }
    end
  end
end
