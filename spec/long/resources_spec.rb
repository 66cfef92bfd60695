# frozen_string_literal: true

require "rbconfig"

# Long-running resource checks (tag :long; `rspec --tag ~long` skips them
# while iterating, the full suite and .ci/run run them).
RSpec.describe "resources over long runs", :long do
  cycles = 100_000
  rss_growth_limit_kib = 20 * 1024
  lib = File.expand_path("../../lib", __dir__)

  mixed_in = Class.new do
    include ProcessShared::MonitorMixin

    def initialize
      super()
      @items = []
    end
  end
  io_memory = ProcessShared::SharedMemory.new(64)

  # name => [make one, close it]
  factories = {
    "Semaphore" => [-> { ProcessShared::Semaphore.new(1) }, :close.to_proc],
    "BinarySemaphore" => [-> { ProcessShared::BinarySemaphore.new(1) }, :close.to_proc],
    "Mutex" => [-> { ProcessShared::Mutex.new }, :close.to_proc],
    "ConditionVariable" => [-> { ProcessShared::ConditionVariable.new }, :close.to_proc],
    "Monitor" => [-> { ProcessShared::Monitor.new }, :close.to_proc],
    "MonitorMixin includer" => [-> { mixed_in.new }, :mon_close.to_proc],
    "SharedMemory" => [-> { ProcessShared::SharedMemory.new(:int64, 4) }, :close.to_proc],
    "SharedArray" => [-> { ProcessShared::SharedArray.new(:int, 4) }, :close.to_proc],
    "SharedMemoryIO (over one memory)" => [-> { ProcessShared::SharedMemoryIO.new(io_memory) }, :close.to_proc],
    "Queue" => [-> { ProcessShared::Queue.new(bytes: 4096) }, :close.to_proc],
    "SizedQueue" => [-> { ProcessShared::SizedQueue.new(2, bytes: 64) }, :close.to_proc],
    "Barrier" => [-> { ProcessShared::Barrier.new(2) }, :close.to_proc],
    "CountDownLatch" => [-> { ProcessShared::CountDownLatch.new(1) }, :close.to_proc],
    "Event" => [-> { ProcessShared::Event.new }, :close.to_proc],
    "SemaphoreMutex (and its Semaphore)" => [-> { ProcessShared::Semaphore.new(1).then { |s| [s, s.to_mtx] } },
                                             ->((semaphore, view)) { view.close || semaphore.close }]
  }

  def open_fds
    Dir.children("/proc/self/fd").size
  end

  # Our mappings only: shared anonymous memory appears as "/dev/zero (deleted)"
  # with the "s" (shared) permission.
  def shared_mappings
    File.foreach("/proc/self/maps").count { |line| line.include?("/dev/zero") && line.split[1].end_with?("s") }
  end

  # What this process left in /dev/shm: the gem's names whose header says
  # this process initialized them (the claim word, bytes 16..24, holds the
  # initializer's pid above 42 bits). Other test runs going on at the same
  # time come and go there with names of their own, initialized by them.
  def shm_names
    Dir.children("/dev/shm").grep(/\Arbps\./).select do |entry|
      claim = File.binread(File.join("/dev/shm", entry), 8, 16)&.unpack1("Q<")
      claim && (claim >> 42) == Process.pid
    rescue SystemCallError # gone meanwhile, or another user's
      false
    end.sort
  end

  it "sees the names this process initializes in /dev/shm, and not another process's" do
    name = "res#{Process.pid}x1"
    mine = ProcessShared::Mutex.new(name:)
    expect(shm_names).to include("rbps.#{name}")
    mine.unlink
    expect_children_to_succeed([fork_child { ProcessShared::Mutex.new(name:) }])
    expect(Dir.children("/dev/shm")).to include("rbps.#{name}")
    expect(shm_names).not_to include("rbps.#{name}")
  ensure
    reap_forked_children
    ProcessShared::Mutex.unlink(name)
  end

  def rss_kib
    File.read("/proc/self/status")[/^VmRSS:\s+(\d+)/, 1].to_i
  end

  def baseline
    GC.start
    { fds: open_fds, mappings: shared_mappings, shm: shm_names, rss: rss_kib }
  end

  define_method(:expect_back_to) do |before|
    GC.start
    expect(open_fds).to eq(before[:fds])
    # The GC is conservative: an object or two may still be referenced from the stack.
    expect(shared_mappings).to be <= before[:mappings] + 2
    expect(shm_names).to eq(before[:shm])
    expect(rss_kib - before[:rss]).to be < rss_growth_limit_kib
  end

  factories.each do |name, (make, close)|
    it "returns to the baseline after #{cycles} create/close cycles of #{name}" do
      close.call(make.call) # load everything once before measuring
      before = baseline
      cycles.times { close.call(make.call) }
      expect_back_to(before)
    end

    it "returns to the baseline after #{cycles} #{name} objects left to the GC" do
      make.call
      before = baseline
      peak = 0
      cycles.times do |i|
        make.call
        peak = [peak, shared_mappings].max if (i % 5000).zero?
      end
      expect(peak).to be < 60_000 # well under vm.max_map_count's default of 65,530
      expect_back_to(before)
    end
  end

  it "keeps 50,000 live Mutex objects in one process under `ulimit -n 256`, all working, no descriptor used" do
    script = <<~'RUBY'
      Process.setrlimit(:NOFILE, 256)
      require "process_shared"
      def fds = Dir.children("/proc/self/fd").size
      def maps = File.foreach("/proc/self/maps").count { |l| l.include?("/dev/zero") && l.split[1].end_with?("s") }
      fds_before = fds
      maps_before = maps
      mutexes = Array.new(50_000) { ProcessShared::Mutex.new }
      raise "descriptors grew from #{fds_before} to #{fds}" unless fds == fds_before
      raise "#{maps - maps_before} mappings for 50,000 mutexes" unless maps - maps_before == 50_000
      mutexes.each(&:lock)
      raise "not all locked" unless mutexes.all?(&:owned?)
      mutexes.each(&:unlock)
      raise "not all unlocked" if mutexes.any?(&:locked?)
      pid = fork { exit!(mutexes.all? { |m| m.try_lock && m.unlock } ? 0 : 1) }
      raise "a child could not take every mutex" unless Process.wait2(pid).last.success?
      File.read("/proc/self/status") # descriptors are still there to be had
      raise "descriptors grew from #{fds_before} to #{fds}" unless fds == fds_before
      mutexes.each(&:close)
      GC.start
      puts "ok #{Process.getrlimit(:NOFILE).first} #{maps - maps_before}"
    RUBY
    output = run_command({}, RbConfig.ruby, "-I", lib, "-e", script, chdir: __dir__, timeout: 120)
    expect(output).to eq("ok 256 0\n")
  end

  it "recovers the mappings of objects left to the GC when address space is short, for every class that maps" do
    # A large live heap makes the GC rare, and only 80 MB of address space is
    # left (more than the 32 MB at most that Ruby lets malloc grow between
    # two GCs, with room for Ruby's own heap to grow: 48 MB failed 3 runs in
    # 10 inside Ruby's allocator): 30,000 dropped objects of each class (a
    # page each, 120 MB)
    # fit only if the GC is told about the mappings, or collects when a
    # mapping is refused (before both were done for every class, all but
    # Semaphore failed here with Errno::ENOMEM).
    script = <<~'RUBY'
      require "process_shared"
      ps = ProcessShared
      makers = [-> { ps::Semaphore.new }, -> { ps::BinarySemaphore.new }, -> { ps::Mutex.new },
                -> { ps::ConditionVariable.new }, -> { ps::Monitor.new }, -> { ps::SharedMemory.new(8) },
                -> { ps::SharedArray.new(:int, 2) }, -> { ps::Queue.new(bytes: 64) }, -> { ps::Barrier.new(2) },
                -> { ps::CountDownLatch.new }, -> { ps::Event.new }]
      keep = Array.new(1_000_000) { Object.new }
      GC.start
      size = File.read("/proc/self/status")[/^VmSize:\s+(\d+)/, 1].to_i * 1024
      Process.setrlimit(:AS, size + (80 * 1024 * 1024))
      makers.each { |make| 30_000.times { make.call } }
      puts "ok #{keep.size}"
    RUBY
    output = run_command({}, RbConfig.ruby, "-I", lib, "-e", script, chdir: __dir__, timeout: 300)
    expect(output).to eq("ok 1000000\n")
  end
end
