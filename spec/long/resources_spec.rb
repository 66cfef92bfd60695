# frozen_string_literal: true

# Long-running resource checks (tag :long; `rspec --tag ~long` skips them
# while iterating, the full suite and .ci/run run them).
RSpec.describe "resources over long runs", :long do
  cycles = 100_000
  rss_growth_limit_kib = 20 * 1024

  factories = {
    ProcessShared::Semaphore => -> { ProcessShared::Semaphore.new(1) },
    ProcessShared::SharedMemory => -> { ProcessShared::SharedMemory.new(:int64, 4) }
  }

  def open_fds
    Dir.children("/proc/self/fd").size
  end

  # Our mappings only: shared anonymous memory appears as "/dev/zero (deleted)"
  # with the "s" (shared) permission.
  def shared_mappings
    File.foreach("/proc/self/maps").count { |line| line.include?("/dev/zero") && line.split[1].end_with?("s") }
  end

  def shm_names
    Dir.children("/dev/shm").sort
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

  factories.each do |klass, factory|
    it "returns to the baseline after #{cycles} create/close cycles of #{klass}" do
      factory.call.close # load everything once before measuring
      before = baseline
      cycles.times { factory.call.close }
      expect_back_to(before)
    end

    it "returns to the baseline after #{cycles} #{klass} objects left to the GC" do
      factory.call
      before = baseline
      peak = 0
      cycles.times do |i|
        factory.call
        peak = [peak, shared_mappings].max if (i % 5000).zero?
      end
      expect(peak).to be < 60_000 # well under vm.max_map_count's default of 65,530
      expect_back_to(before)
    end
  end
end
