# frozen_string_literal: true

RSpec.describe ProcessShared::Semaphore do
  # The largest value a POSIX semaphore holds on Linux (SEM_VALUE_MAX).
  sem_value_max = (2**31) - 1

  # Closes what an example opened, so no example leaks mappings into another.
  def semaphore(*args)
    sem = described_class.new(*args)
    opened << sem
    sem
  end

  def opened
    @opened ||= []
  end

  after { opened.each(&:close) }

  # Seconds the block took on the monotonic clock.
  def elapsed
    start = monotonic_now
    yield
    monotonic_now - start
  end

  # A thread for a wait that the example interrupts (its error is expected).
  def quiet_thread(&)
    Thread.new do
      Thread.current.report_on_exception = false
      yield
    end
  end

  # Waits (with a deadline) until `thread` is blocked in native code, where
  # Ruby reports it as sleeping, then a little longer so it really waits.
  def wait_until_blocked(thread)
    deadline = monotonic_now + 10
    sleep 0.01 until thread.status == "sleep" || !thread.alive? || monotonic_now > deadline
    raise "thread never blocked (#{thread.status.inspect})" unless thread.status == "sleep"

    sleep 0.1
  end

  describe ".new" do
    it "starts at 1 by default, or at the value given" do
      expect(semaphore.value).to eq(1)
      expect(semaphore(0).value).to eq(0)
      expect(semaphore(5).value).to eq(5)
      expect(semaphore(sem_value_max).value).to eq(sem_value_max)
    end

    it "raises ArgumentError for a negative or too large value, or too many arguments" do
      [[-1], [-2**70], [sem_value_max + 1], [2**64], [1, 2]].each do |args|
        expect { described_class.new(*args) }.to raise_error(ArgumentError), args.inspect
      end
    end

    it "raises TypeError for a value that is not an Integer" do
      [[1.0], ["1"], [nil], [true]].each do |args|
        expect { described_class.new(*args) }.to raise_error(TypeError), args.inspect
      end
    end

    it "works for subclasses and refuses to initialize an object twice" do
      sem = Class.new(described_class).new(2)
      opened << sem
      expect(sem.value).to eq(2)
      expect { sem.send(:initialize, 5) }.to raise_error(TypeError)
      expect(sem.value).to eq(2)
    end
  end

  describe "#wait, #post and #value" do
    it "count down and up, returning self" do
      sem = semaphore(2)
      expect(sem.wait).to equal(sem)
      expect(sem.wait).to equal(sem)
      expect(sem.value).to eq(0)
      expect(sem.post).to equal(sem)
      expect(sem.value).to eq(1)
    end

    it "raises RangeError when posting at the maximum, leaving the value alone" do
      sem = semaphore(sem_value_max)
      expect { sem.post }.to raise_error(RangeError)
      expect(sem.value).to eq(sem_value_max)
    end

    it "lets a child wait for the parent's post and the parent for the child's" do
      to_child = semaphore(0)
      to_parent = semaphore(0)
      memory = ProcessShared::SharedMemory.new(:int)
      pid = fork_child do
        50.times do |round|
          to_child.wait
          memory.put_int(0, round)
          to_parent.post
        end
      end
      50.times do |round|
        to_child.post
        to_parent.wait
        expect(memory.get_int(0)).to eq(round)
      end
      expect_children_to_succeed([pid])
      expect([to_child.value, to_parent.value]).to eq([0, 0])
    ensure
      memory&.close
    end

    it "wakes a waiter in another process blocked before the post" do
      sem = semaphore(0)
      ready = semaphore(0)
      pid = fork_child do
        ready.post
        sem.wait
      end
      ready.wait
      sleep 0.2 # let the child block
      sem.post
      expect_children_to_succeed([pid], timeout: 10)
      expect(sem.value).to eq(0)
    end

    it "shows a value changed by another process" do
      sem = semaphore(0)
      pid = fork_child { 3.times { sem.post } }
      expect_children_to_succeed([pid])
      expect(sem.value).to eq(3)
    end
  end

  describe "#synchronize" do
    it "gives eight processes mutual exclusion: their increments add up exactly" do
      lock = semaphore(1)
      counter = ProcessShared::SharedMemory.new(:int64)
      processes = 8
      increments = 300
      pids = Array.new(processes) do
        fork_child do
          increments.times do |index|
            lock.synchronize do
              value = counter.get_int64(0)
              sleep 0.0001 if (index % 25).zero? # widen the window for a lost update
              counter.put_int64(0, value + 1)
            end
          end
        end
      end
      expect_children_to_succeed(pids, timeout: 60)
      expect(counter.get_int64(0)).to eq(processes * increments)
      expect(lock.value).to eq(1)
    ensure
      counter&.close
    end

    it "returns the block's value and posts again" do
      sem = semaphore(1)
      inside = nil
      result = sem.synchronize do
        inside = sem.value
        :result
      end
      expect(result).to eq(:result)
      expect(inside).to eq(0)
      expect(sem.value).to eq(1)
    end

    it "posts even when the block raises, breaks or throws" do
      sem = semaphore(1)
      expect { sem.synchronize { raise ArgumentError, "boom" } }.to raise_error(ArgumentError, "boom")
      expect(sem.value).to eq(1)
      expect(sem.synchronize { break :broken }).to eq(:broken)
      expect(sem.value).to eq(1)
      expect(catch(:done) { sem.synchronize { throw :done, :thrown } }).to eq(:thrown)
      expect(sem.value).to eq(1)
    end

    it "raises ThreadError without a block, taking nothing" do
      sem = semaphore(1)
      expect { sem.synchronize }.to raise_error(ThreadError)
      expect(sem.value).to eq(1)
    end

    it "does not post when its wait was interrupted" do
      sem = semaphore(0)
      thread = quiet_thread { sem.synchronize { :never } }
      wait_until_blocked(thread)
      thread.raise(IOError, "stop")
      expect { thread.join(5) }.to raise_error(IOError, "stop")
      expect(sem.value).to eq(0)
    end
  end

  describe "#try_wait" do
    it "takes one unit when there is one and returns self" do
      sem = semaphore(2)
      expect(sem.try_wait).to equal(sem)
      expect(sem.try_wait(nil)).to equal(sem)
      expect(sem.value).to eq(0)
    end

    it "raises Errno::EAGAIN at zero without a timeout, at once" do
      sem = semaphore(0)
      took = elapsed { expect { sem.try_wait }.to raise_error(Errno::EAGAIN) }
      expect { sem.try_wait(nil) }.to raise_error(Errno::EAGAIN)
      expect(took).to be < 1
      expect(sem.value).to eq(0)
    end

    [0.3, 1].each do |timeout|
      it "raises Errno::ETIMEDOUT after #{timeout.class} timeout #{timeout} s, not before, not much after" do
        sem = semaphore(0)
        took = elapsed { expect { sem.try_wait(timeout) }.to raise_error(Errno::ETIMEDOUT) }
        expect(took).to be >= timeout
        expect(took).to be < timeout + 1
        expect(sem.value).to eq(0)
      end
    end

    it "times out at once with a zero timeout, but still takes an available unit" do
      sem = semaphore(0)
      expect(elapsed { expect { sem.try_wait(0) }.to raise_error(Errno::ETIMEDOUT) }).to be < 1
      sem.post
      expect(sem.try_wait(0)).to equal(sem)
      expect(sem.value).to eq(0)
    end

    it "returns as soon as another process posts during the wait" do
      sem = semaphore(0)
      pid = fork_child do
        sleep 0.3
        sem.post
      end
      took = elapsed { expect(sem.try_wait(20)).to equal(sem) }
      expect(took).to be < 10
      expect_children_to_succeed([pid])
      expect(sem.value).to eq(0)
    end

    it "waits without limit for an infinite timeout" do
      sem = semaphore(0)
      pid = fork_child do
        sleep 0.3
        sem.post
      end
      expect(sem.try_wait(Float::INFINITY)).to equal(sem)
      expect_children_to_succeed([pid])
    end

    it "raises ArgumentError for a negative or NaN timeout, TypeError for a non-number" do
      sem = semaphore(0)
      expect { sem.try_wait(-0.001) }.to raise_error(ArgumentError)
      expect { sem.try_wait(-1) }.to raise_error(ArgumentError)
      expect { sem.try_wait(Float::NAN) }.to raise_error(ArgumentError)
      expect { sem.try_wait("1") }.to raise_error(TypeError)
      expect { sem.try_wait(1, 2) }.to raise_error(ArgumentError)
      sem.post
      expect { sem.try_wait(-1) }.to raise_error(ArgumentError)
      expect(sem.value).to eq(1)
    end
  end

  describe "blocking" do
    it "lets other Ruby threads run while a thread waits with a timeout" do
      sem = semaphore(0)
      iterations = 0
      running = true
      busy = Thread.new { iterations += 1 while running }
      sleep 0.05
      before = iterations
      expect { sem.try_wait(0.5) }.to raise_error(Errno::ETIMEDOUT)
      during = iterations - before
      running = false
      busy.join
      # A wait holding the GVL would leave the busy thread near zero.
      expect(during).to be > 10_000
    end

    it "lets another Ruby thread run and post while a thread waits without a timeout" do
      sem = semaphore(0)
      iterations = 0
      poster = Thread.new do
        iterations += 1 while iterations < 200_000
        sem.post
      end
      sem.wait
      poster.join
      expect(iterations).to eq(200_000)
      expect(sem.value).to eq(0)
    end
  end

  describe "interrupting a blocked wait" do
    waits = {
      "wait" => ->(sem) { sem.wait },
      "try_wait(timeout)" => ->(sem) { sem.try_wait(60) }
    }

    # The semaphore must be exactly as before: at zero, and a post afterwards
    # is neither lost nor taken by the interrupted waiter.
    def expect_semaphore_unchanged(sem)
      expect(sem.value).to eq(0)
      sem.post
      expect(sem.value).to eq(1)
      expect(sem.try_wait).to equal(sem)
      expect { sem.try_wait }.to raise_error(Errno::EAGAIN)
      waiter = Thread.new { sem.try_wait(10) }
      sem.post
      expect(waiter.value).to equal(sem)
      expect(sem.value).to eq(0)
    end

    waits.each do |name, blocking_wait|
      context "in #{name}" do
        it "raises what Thread#raise sends, promptly" do
          sem = semaphore(0)
          thread = quiet_thread { blocking_wait.call(sem) }
          wait_until_blocked(thread)
          took = elapsed do
            thread.raise(IOError, "interrupted")
            expect { thread.join(10) }.to raise_error(IOError, "interrupted")
          end
          expect(took).to be < 2
          expect_semaphore_unchanged(sem)
        end

        it "ends the thread on Thread#kill, promptly" do
          sem = semaphore(0)
          thread = quiet_thread { blocking_wait.call(sem) }
          wait_until_blocked(thread)
          took = elapsed do
            thread.kill
            expect(thread.join(10)).to equal(thread)
          end
          expect(took).to be < 2
          expect(thread).not_to be_alive
          expect_semaphore_unchanged(sem)
        end

        it "gives up at Timeout.timeout" do
          sem = semaphore(0)
          took = elapsed do
            expect { Timeout.timeout(0.3) { blocking_wait.call(sem) } }.to raise_error(Timeout::Error)
          end
          expect(took).to be >= 0.3
          expect(took).to be < 2
          expect_semaphore_unchanged(sem)
        end

        it "raises Interrupt on Ctrl-C (SIGINT) in a forked child" do
          sem = semaphore(0)
          ready = semaphore(0)
          pid = fork do
            Signal.trap("INT", "DEFAULT") # Ruby's own: raise Interrupt (RSpec traps INT)
            ready.post
            blocking_wait.call(sem)
            exit!(1) # the wait returned: wrong
          rescue Interrupt
            exit!(42)
          rescue Exception # rubocop:disable Lint/RescueException
            exit!(2)
          end
          forked_pids << pid
          ready.wait
          sleep 0.2 # let the child block
          Process.kill(:INT, pid)
          status = wait_child(pid, timeout: 10)
          expect(status.exitstatus).to eq(42)
          expect_semaphore_unchanged(sem)
        end

        it "runs a signal's trap handler and goes on waiting" do
          sem = semaphore(0)
          ready = semaphore(0)
          trapped = semaphore(0)
          pid = fork_child do
            Signal.trap("USR1") { trapped.post }
            ready.post
            blocking_wait.call(sem)
          end
          ready.wait
          sleep 0.2 # let the child block
          Process.kill(:USR1, pid)
          expect(trapped.try_wait(10)).to equal(trapped)
          sleep 0.2
          expect(Process.waitpid(pid, Process::WNOHANG)).to be_nil # still waiting
          sem.post
          expect_children_to_succeed([pid])
          expect(sem.value).to eq(0)
        end
      end
    end

    it "lets a thread wait on after another thread closed its handle, and wakes it by a post through a dup" do
      sem = semaphore(0)
      copy = sem.dup
      opened << copy
      waiter = Thread.new { sem.wait }
      wait_until_blocked(waiter)
      sem.close
      copy.post
      expect(waiter.join(10)).to equal(waiter)
      expect(copy.value).to eq(0)
    end
  end

  describe "#close" do
    it "makes every method raise ClosedError, without running a block" do
      sem = described_class.new(1)
      sem.close
      ran = false
      [
        -> { sem.wait }, -> { sem.post }, -> { sem.try_wait }, -> { sem.try_wait(1) },
        -> { sem.value }, -> { sem.synchronize { ran = true } }, -> { sem.dup }, -> { sem.to_mtx },
        -> { sem.waiting }
      ].each do |call|
        expect(&call).to raise_error(ProcessShared::ClosedError)
      end
      expect(ran).to be(false)
    end

    it "covers every public method (a check of this spec itself)" do
      expect(described_class.public_instance_methods(false))
        .to contain_exactly(:wait, :post, :try_wait, :value, :synchronize, :to_mtx, :close, :closed?,
                            :waiting, :inspect)
      expect(described_class.new.tap(&:close).inspect).to eq("#<#{described_class} closed>")
    end

    it "is idempotent" do
      sem = described_class.new
      expect(sem).not_to be_closed
      sem.close
      sem.close
      expect(sem).to be_closed
    end

    it "closes only this process's handle" do
      sem = semaphore(0)
      pid = fork_child do
        sem.close
        raise "not closed" unless sem.closed?
      end
      expect_children_to_succeed([pid])
      sem.post
      expect(sem.value).to eq(1)
    end
  end

  describe ".allocate" do
    it "gives an object whose methods raise ClosedError" do
      sem = described_class.allocate
      expect(sem).not_to be_closed
      expect { sem.wait }.to raise_error(ProcessShared::ClosedError)
      expect { sem.post }.to raise_error(ProcessShared::ClosedError)
      expect { sem.value }.to raise_error(ProcessShared::ClosedError)
      expect { sem.synchronize { nil } }.to raise_error(ProcessShared::ClosedError)
    end
  end

  describe "#dup" do
    it "shares the same semaphore" do
      sem = semaphore(0)
      copy = sem.dup
      opened << copy
      copy.post
      expect(sem.value).to eq(1)
      sem.close
      expect(copy.try_wait).to equal(copy)
    end
  end

  describe ".open" do
    it "yields a semaphore with the value given, closes it and returns the block's value" do
      yielded = nil
      result = described_class.open(3) do |sem|
        yielded = sem
        sem.wait
        sem.value
      end
      expect(result).to eq(2)
      expect(yielded).to be_closed
    end

    it "closes the semaphore when the block raises" do
      yielded = nil
      expect do
        described_class.open do |sem|
          yielded = sem
          raise "boom"
        end
      end.to raise_error("boom")
      expect(yielded).to be_closed
    end

    it "is new without a block" do
      sem = described_class.open(0)
      opened << sem
      expect(sem.value).to eq(0)
    end
  end

  describe "resources" do
    it "uses no file descriptor, leaves no /dev/shm entry and unmaps on close" do
      fds_before = Dir.children("/proc/self/fd").size
      shm_before = Dir.children("/dev/shm").size
      maps_before = File.foreach("/proc/self/maps").count
      semaphores = Array.new(1000) { described_class.new(0) }
      fds_during = Dir.children("/proc/self/fd").size
      shm_during = Dir.children("/dev/shm").size
      maps_during = File.foreach("/proc/self/maps").count
      semaphores.each(&:close)
      maps_after = File.foreach("/proc/self/maps").count
      expect(fds_during - fds_before).to be < 5
      expect(shm_during - shm_before).to be < 5
      expect(maps_during - maps_before).to be >= 900
      expect(maps_after - maps_before).to be < 100
    end
  end
end
