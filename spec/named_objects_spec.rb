# frozen_string_literal: true

require "spec_helper"
require_relative "support/lock_helpers"
require "etc"
require "process_shared/undo_semaphore"
require "pathname"
require "rbconfig"

# Named objects: `name:` (POSIX shared memory) and `path:` (a file), for
# processes that are not parent and child.
RSpec.describe "named objects" do
  include ForkHelper

  linux = RUBY_PLATFORM.include?("linux")
  root = Process.euid.zero?

  def ours_in_dev_shm
    Dir.children("/dev/shm").grep(/\Arbps\./).sort
  end

  def open_fds
    Dir.children("/proc/self/fd").size
  end

  # A name no other example (or run) uses.
  def unique_name(tag = "n")
    @unique_counter = (@unique_counter || 0) + 1
    "spec#{tag}#{Process.pid}x#{@unique_counter}"
  end

  def shm_path(name)
    "/dev/shm/rbps.#{name}"
  end

  around do |example|
    before = linux ? ours_in_dev_shm : []
    Dir.mktmpdir("process_shared_named") do |dir|
      @dir = dir
      example.run
    end
    reap_forked_children
    # Every example removes what it made (a leak here fails the example).
    expect(ours_in_dev_shm).to eq(before) if linux
  end

  let(:name) { unique_name }

  after { ProcessShared::Mutex.unlink(name) }

  classes = {
    ProcessShared::Semaphore => [[2], ->(o) { o.value }],
    ProcessShared::BinarySemaphore => [[0], ->(o) { o.value }],
    ProcessShared::Mutex => [[], ->(o) { o.locked? }],
    ProcessShared::Monitor => [[], ->(o) { o.mon_locked? }],
    ProcessShared::ConditionVariable => [[], ->(o) { o.signal && :signalled }],
    ProcessShared::SharedMemory => [[:int64, 2], ->(o) { o.get_int64(8) }],
    ProcessShared::SharedArray => [[:int32, 3], ->(o) { o.to_a }],
    ProcessShared::AtomicInteger => [[7], ->(o) { o.value }],
    ProcessShared::CountDownLatch => [[3], ->(o) { o.count }],
    ProcessShared::Event => [[], ->(o) { o.set? }],
    ProcessShared::Barrier => [[2], ->(o) { o.parties }],
    ProcessShared::ReadWriteLock => [[], ->(o) { o.write_locked? }],
    ProcessShared::UndoSemaphore => [[2], ->(o) { o.value }]
  }

  classes.each do |klass, (args, probe)|
    describe klass do
      it "is shared by name and by path, and reports both" do
        object = klass.new(*args, name:)
        again = klass.new(*args, name:, create: false)
        expect(probe.call(again)).to eq(probe.call(object))
        expect(object.name).to eq(name)
        expect(object.path).to eq(shm_path(name)) if linux
        expect(File.stat(shm_path(name)).mode & 0o777).to eq(0o600) if linux
        expect(ProcessShared.named_objects).to include(name => klass) if linux
        expect(object.unlink).to be(true)
        expect(again.unlink).to be(false)
        expect(probe.call(again)).to eq(probe.call(object))

        path = File.join(@dir, "object")
        by_path = klass.new(*args, path:)
        expect(by_path.path).to eq(path)
        expect(by_path.name).to be_nil
        expect(klass.new(*args, path: Pathname(path), create: false).path).to eq(path)
        expect(klass.unlink(path:)).to be(true)
        expect(File.exist?(path)).to be(false)
      end

      it "keeps no file descriptor and works after close only by raising ClosedError" do
        GC.start
        before = open_fds
        objects = Array.new(50) { |i| klass.new(*args, name: "#{name}.#{i}") }
        expect(open_fds).to be <= before
        objects.each(&:unlink)
        objects.first.close
        expect { objects.first.name }.to raise_error(ProcessShared::ClosedError)
      end

      it "refuses to open what another class stored under the name, naming both" do
        other = klass == ProcessShared::Mutex ? ProcessShared::Monitor : ProcessShared::Mutex
        other.new(name:)
        expect { klass.new(*args, name:) }
          .to raise_error(TypeError, /is a #{other}, not a #{klass}/)
      end

      it "has no name when anonymous" do
        object = klass.new(*args)
        expect([object.name, object.path]).to eq([nil, nil])
        expect { object.unlink }.to raise_error(ArgumentError, /anonymous/)
      end
    end
  end

  describe "create:" do
    it "creates or opens by default, raises EEXIST for :exclusive and ENOENT for false" do
      expect { ProcessShared::Mutex.new(name:, create: false) }.to raise_error(Errno::ENOENT, /#{name}/)
      ProcessShared::Mutex.new(name:, create: :exclusive)
      expect { ProcessShared::Mutex.new(name:, create: :exclusive) }.to raise_error(Errno::EEXIST, /#{name}/)
      ProcessShared::Mutex.new(name:, create: true)
      ProcessShared::Mutex.new(name:, create: false)
    end

    it "applies initial values only when it creates" do
      ProcessShared::Semaphore.new(3, name:)
      expect(ProcessShared::Semaphore.new(9, name:).value).to eq(3)
      ProcessShared::Mutex.unlink(name)
      array = ProcessShared::SharedArray.new(:uint8, 4, name:)
      array[0] = 200
      expect(ProcessShared::SharedArray.new(:uint8, 4, name:)[0]).to eq(200)
    end

    it "still checks initial values an existing object ignores" do
      ProcessShared::BinarySemaphore.new(1, name:)
      expect { ProcessShared::BinarySemaphore.new(2, name:) }.to raise_error(ArgumentError)
    end

    it "refuses another element type, count or size, naming both" do
      ProcessShared::SharedArray.new(:int64, 4, name:)
      expect { ProcessShared::SharedArray.new(:int32, 4, name:) }
        .to raise_error(ArgumentError, /4 i64 .*not 4 i32/)
      expect { ProcessShared::SharedArray.new(:int64, 5, name:) }
        .to raise_error(ArgumentError, /4 i64 .*not 5 i64/)
      ProcessShared::Mutex.unlink(name)
      ProcessShared::SharedMemory.new(64, name:)
      expect { ProcessShared::SharedMemory.new(65, name:) }.to raise_error(ArgumentError, /64 u8.*65 u8/)
    end
  end

  describe "arguments" do
    it "refuses bad names, both name: and path:, unknown keywords, bad create: and mode:" do
      ["", ".x", "-x", "a/b", "../etc", "a b", "x" * 25, "caf\u00e9", "a\0b"].each do |bad|
        expect { ProcessShared::Mutex.new(name: bad) }.to raise_error(ArgumentError, /invalid name/), bad
      end
      expect(ProcessShared::Mutex.new(name: "#{name[0, 20]}.a-_"[0, 24]).tap(&:unlink).name).to be_a(String)
      expect { ProcessShared::Mutex.new(name: :sym) }.to raise_error(TypeError)
      expect { ProcessShared::Mutex.new(path: 42) }.to raise_error(TypeError)
      expect { ProcessShared::Mutex.new(name:, path: "/tmp/x") }.to raise_error(ArgumentError, /not both/)
      expect { ProcessShared::Mutex.new(nmae: name) }.to raise_error(ArgumentError, /unknown keyword/)
      expect { ProcessShared::Mutex.new(create: true) }.to raise_error(ArgumentError, /need name/)
      expect { ProcessShared::Mutex.new(name:, create: :maybe) }.to raise_error(ArgumentError, /create:/)
      [-1, 0o1000, 1.5, "600"].each do |mode|
        expect { ProcessShared::Mutex.new(name:, mode:) }.to raise_error(ArgumentError, /mode:/)
      end
      expect { ProcessShared::Mutex.new(path: "") }.to raise_error(ArgumentError)
      expect { ProcessShared::Mutex.new(1, name:) }.to raise_error(ArgumentError)
      expect(ours_in_dev_shm).not_to include("rbps.#{name}") if linux
    end

    it "Klass.unlink takes a name or path: and reports whether it removed one" do
      ProcessShared::Semaphore.new(name:)
      expect(ProcessShared::Semaphore.unlink(name)).to be(true)
      expect(ProcessShared::Semaphore.unlink(name)).to be(false)
      expect { ProcessShared::Semaphore.unlink("bad/name") }.to raise_error(ArgumentError)
      expect { ProcessShared::Semaphore.unlink }.to raise_error(ArgumentError)
    end
  end

  describe "permissions", if: linux do
    it "applies mode: exactly, whatever the umask" do
      old = File.umask(0o077)
      begin
        ProcessShared::Mutex.new(name:, mode: 0o660)
        path = File.join(@dir, "file")
        ProcessShared::Mutex.new(path:, mode: 0o644)
      ensure
        File.umask(old)
      end
      expect(File.stat(shm_path(name)).mode & 0o777).to eq(0o660)
      expect(File.stat(path).mode & 0o777).to eq(0o644)
      old = File.umask(0)
      begin
        ProcessShared::Mutex.new(path: "#{path}2")
      ensure
        File.umask(old)
      end
      expect(File.stat("#{path}2").mode & 0o777).to eq(0o600)
    end

    it "refuses to open with a mode: other than the object's (EACCES)" do
      ProcessShared::Mutex.new(name:, mode: 0o640)
      expect { ProcessShared::Mutex.new(name:, mode: 0o600) }.to raise_error(Errno::EACCES, /0o640/)
      ProcessShared::Mutex.new(name:, mode: 0o640)
      ProcessShared::Mutex.new(name:)
    end

    it "refuses a symlink planted at the object's path, and leaves its target alone" do
      victim = File.join(@dir, "victim")
      File.write(victim, "precious")
      File.symlink(victim, shm_path(name))
      expect { ProcessShared::Mutex.new(name:) }.to raise_error(Errno::ELOOP)
      expect { ProcessShared::Mutex.new(name:, create: :exclusive) }.to raise_error(Errno::EEXIST)
      expect { ProcessShared::Mutex.new(name:, create: false) }.to raise_error(Errno::ELOOP)
      link = File.join(@dir, "link")
      File.symlink(victim, link)
      expect { ProcessShared::SharedMemory.new(64, path: link) }.to raise_error(Errno::ELOOP)
      expect { ProcessShared::SharedMemory.new(64, path: link, create: false) }.to raise_error(Errno::ELOOP)
      expect(File.read(victim)).to eq("precious")
      expect(File.symlink?(shm_path(name))).to be(true)
      File.unlink(shm_path(name))
    end

    it "refuses a segment another user created, unless mode: shares it", if: root do
      ProcessShared::Semaphore.new(4, name:, mode: 0o666)
      File.chown(Etc.getpwnam("nobody").uid, nil, shm_path(name))
      expect { ProcessShared::Semaphore.new(name:) }.to raise_error(Errno::EACCES, /owned by uid/)
      expect(ProcessShared::Semaphore.new(name:, mode: 0o666).value).to eq(4)
    end

    it "keeps another user out of an owner-only object", if: root do
      ProcessShared::Mutex.new(name:)
      pid = fork_child do
        Process::UID.change_privilege(Etc.getpwnam("nobody").uid)
        begin
          ProcessShared::Mutex.new(name:, create: false)
          exit!(3)
        rescue Errno::EACCES
          exit!(0)
        end
      end
      expect(wait_child(pid).exitstatus).to eq(0)
    end
  end

  describe "files given as path:" do
    let(:path) { File.join(@dir, "stats") }

    it "survives the objects that used it, for counters kept across restarts" do
      ProcessShared::SharedArray.open(:int64, 2, path:) { |counts| counts[0] += 1 }
      ProcessShared::SharedArray.open(:int64, 2, path:) { |counts| counts[0] += 1 }
      expect(ProcessShared::SharedArray.new(:int64, 2, path:, create: false)[0]).to eq(2)
    end

    it "refuses a truncated file, a garbage file, a directory and a FIFO, and changes none" do
      File.write(path, "short")
      expect { ProcessShared::Mutex.new(path:) }.to raise_error(TypeError, /not a process_shared object/)
      garbage = Random.new(1).bytes(8192)
      File.binwrite(path, garbage)
      expect { ProcessShared::Mutex.new(path:) }.to raise_error(TypeError, /not a process_shared object/)
      expect(File.binread(path)).to eq(garbage)
      zeros = "\0" * 5000
      File.binwrite(path, zeros)
      expect { ProcessShared::Mutex.new(path:) }.to raise_error(TypeError, /not a process_shared object/)
      expect(File.binread(path)).to eq(zeros)
      File.unlink(path)
      ProcessShared::SharedArray.new(:int64, 1000, path:)
      File.truncate(path, 1000)
      expect { ProcessShared::SharedArray.new(:int64, 1000, path:) }.to raise_error(TypeError, /truncated/)
      File.unlink(path)
      Dir.mkdir(path)
      expect { ProcessShared::Mutex.new(path:) }.to raise_error(SystemCallError)
      Dir.rmdir(path)
      File.mkfifo(path)
      expect { ProcessShared::Mutex.new(path:, create: false) }.to raise_error(TypeError, /not a regular file/)
    end

    it "initializes an empty file" do
      File.write(path, "")
      expect(ProcessShared::Semaphore.new(2, path:, create: false).value).to eq(2)
    end
  end

  describe "creation races" do
    it "has exactly one of many processes opening a new name at once initialize it" do
      5.times do |round|
        round_name = "#{name}r#{round}"
        go = ProcessShared::Semaphore.new(0)
        pids = Array.new(8) do |index|
          fork_child do
            go.wait
            semaphore = ProcessShared::Semaphore.new(index + 10, name: round_name)
            semaphore.post
          end
        end
        8.times { go.post }
        expect_children_to_succeed(pids)
        semaphore = ProcessShared::Semaphore.new(name: round_name, create: false)
        # One initial value (10..17) applied once, plus one post each.
        expect(semaphore.value - 8).to be_between(10, 17)
        semaphore.unlink
      end
    end

    it "runs 10,000 create/unlink cycles without leaking a name, a mapping or a descriptor" do
      GC.start # closes what earlier examples left to the GC
      fds = open_fds
      10_000.times do
        mutex = ProcessShared::Mutex.new(name:, create: :exclusive)
        mutex.unlink
        mutex.close
      end
      expect(open_fds).to be <= fds
      expect(File.exist?(shm_path(name))).to be(false) if linux
    end
  end

  describe "waiting for another process's initialization", if: linux do
    # The header's claim word (bytes 16..24) names the initializer: its pid
    # above 42 bits of its start time (field 22 of /proc/PID/stat).
    def claim_for(pid)
      start_time = Integer(File.read("/proc/#{pid}/stat").split(")").last.split[19])
      (pid << 42) | (start_time & ((1 << 42) - 1))
    end

    # Makes the object at `path` look as if `pid` were still initializing it.
    def pretend_initializing(path, pid)
      File.open(path, "r+b") do |file|
        file.seek(12)
        file.write([0, claim_for(pid)].pack("L<Q<"))
      end
    end

    it "waits (interruptibly) while a live process initializes, and takes over from a dead one" do
      path = File.join(@dir, "lock")
      ProcessShared::Semaphore.new(1, path:).close
      initializer = fork_child { sleep }
      pretend_initializing(path, initializer)
      expect { Timeout.timeout(0.3) { ProcessShared::Semaphore.new(5, path:) } }.to raise_error(Timeout::Error)
      waiter = Thread.new { ProcessShared::Semaphore.new(5, path:) }
      sleep 0.1
      expect(waiter).to be_alive
      Process.kill(:KILL, initializer)
      wait_child(initializer)
      expect(waiter.join(10)&.value&.value).to eq(5)
    end
  end

  describe "interrupts" do
    it "lets Thread#raise end waits on named objects, leaving them as they were" do
      semaphore = ProcessShared::Semaphore.new(0, name:)
      binary = ProcessShared::BinarySemaphore.new(0, name: "#{name}.b")
      mutex = ProcessShared::Mutex.new(name: "#{name}.m")
      condition = ProcessShared::ConditionVariable.new(name: "#{name}.c")
      [binary, mutex, condition].each(&:unlink)
      waits = [-> { semaphore.wait }, -> { binary.wait }, -> { mutex.synchronize { condition.wait(mutex) } }]
      waits.each do |wait|
        thread = quiet_thread(&wait)
        wait_until_blocked(thread)
        thread.raise(IOError, "stop")
        expect { thread.join(10) }.to raise_error(IOError, "stop")
      end
      expect([semaphore.value, binary.value, mutex.locked?]).to eq([0, 0, false])
    end
  end

  describe "bounds" do
    it "checks every access against the size asked for, not the header or the page" do
      memory = ProcessShared::SharedMemory.new(:int64, 3, name:)
      expect(memory.size).to eq(24)
      memory.put_int64(16, -1)
      expect { memory.get_int64(17) }.to raise_error(IndexError)
      expect { memory.put_bytes(20, "12345") }.to raise_error(IndexError)
      expect { memory.get_int64(-8) }.to raise_error(IndexError)
      expect(ProcessShared::SharedMemory.new(:int64, 3, name:).get_int64(16)).to eq(-1)
    end
  end

  describe "Monitor#new_cond" do
    it "names the condition of a named monitor" do
      monitor = ProcessShared::Monitor.new(name:)
      cond = monitor.new_cond(name: "#{name}.c")
      expect(ProcessShared::ConditionVariable.new(name: "#{name}.c", create: false).name).to eq("#{name}.c")
      monitor.synchronize { expect(cond.wait(0.01)).to be(false) }
      ProcessShared::ConditionVariable.unlink("#{name}.c")
    end
  end

  describe "across unrelated processes" do
    def spawn_ruby(code, *args)
      lib = File.expand_path("../lib", __dir__)
      pid = Process.spawn(RbConfig.ruby, "-I", lib, "-rprocess_shared", "-e", code, *args.map(&:to_s))
      forked_pids << pid
      pid
    end

    it "counts exactly with 8 independently started processes on a named Mutex and SharedArray" do
      code = <<~RUBY
        mutex = ProcessShared::Mutex.new(name: ARGV[0])
        counts = ProcessShared::SharedArray.new(:int64, 2, name: ARGV[0] + ".a")
        500.times do
          mutex.synchronize do
            value = counts[0]
            Thread.pass
            counts[0] = value + 1
          end
        end
        exit!(0)
      RUBY
      pids = Array.new(8) { spawn_ruby(code, name) }
      expect_children_to_succeed(pids, timeout: 60)
      counts = ProcessShared::SharedArray.new(:int64, 2, name: "#{name}.a", create: false)
      expect(counts[0]).to eq(8 * 500)
      counts.unlink
    end

    it "wakes waiters of independently started processes on a named Semaphore, one unit each" do
      code = <<~RUBY
        sem = ProcessShared::Semaphore.new(0, name: ARGV[0])
        sem.try_wait(30)
        exit!(0)
      RUBY
      sem = ProcessShared::Semaphore.new(0, name:)
      pids = Array.new(4) { spawn_ruby(code, name) }
      deadline = monotonic_now + 30
      sleep 0.01 until sem.waiting == 4 || monotonic_now > deadline
      expect(sem.waiting).to eq(4)
      # Asleep in the futex of the named object by now; each post wakes one.
      sleep 0.05
      4.times { sem.post }
      expect_children_to_succeed(pids, timeout: 30)
      expect(sem.value).to eq(0)
      expect(sem.waiting).to eq(0)
    end

    it "lets Timeout interrupt a wait on a named Semaphore, taking nothing" do
      sem = ProcessShared::Semaphore.new(0, name:)
      expect { Timeout.timeout(0.2) { sem.wait } }.to raise_error(Timeout::Error)
      expect(sem.waiting).to eq(0)
      sem.post
      expect(sem.value).to eq(1)
      expect(sem.try_wait(1)).to be(sem)
      expect(sem.value).to eq(0)
    end

    it "recovers a named Mutex whose holder (another program) was killed" do
      code = <<~RUBY
        mutex = ProcessShared::Mutex.new(name: ARGV[0])
        mutex.lock
        $stdout.puts "locked"; $stdout.flush
        sleep
      RUBY
      reader, writer = IO.pipe
      lib = File.expand_path("../lib", __dir__)
      pid = Process.spawn(RbConfig.ruby, "-I", lib, "-rprocess_shared", "-e", code, name, out: writer)
      forked_pids << pid
      writer.close
      expect(reader.gets).to eq("locked\n")
      mutex = ProcessShared::Mutex.new(name:, create: false)
      expect(mutex.try_lock).to be(false)
      Process.kill(:KILL, pid)
      wait_child(pid)
      expect(mutex.try_lock(5)).to be(true)
      expect(mutex.previous_owner_died?).to be(true)
      mutex.unlock
    end

    it "lets Thread#raise and Timeout interrupt a wait on a lock another program holds" do
      code = <<~RUBY
        mutex = ProcessShared::Mutex.new(name: ARGV[0])
        mutex.lock
        $stdout.puts "locked"; $stdout.flush
        $stdin.read
      RUBY
      lib = File.expand_path("../lib", __dir__)
      stdin_reader, stdin_writer = IO.pipe
      reader, writer = IO.pipe
      pid = Process.spawn(RbConfig.ruby, "-I", lib, "-rprocess_shared", "-e", code, name,
                          in: stdin_reader, out: writer)
      forked_pids << pid
      writer.close
      stdin_reader.close
      expect(reader.gets).to eq("locked\n")
      mutex = ProcessShared::Mutex.new(name:, create: false)
      expect { Timeout.timeout(0.2) { mutex.lock } }.to raise_error(Timeout::Error)
      expect(mutex.owned?).to be(false)
      stdin_writer.close
      wait_child(pid)
      expect(mutex.try_lock(5)).to be(true)
      mutex.unlock
    end
  end
end
