# frozen_string_literal: true

# Atomic counters in one process: AtomicInteger#increment against
# concurrent-ruby's AtomicFixnum (its C extension, Debian's
# ruby-concurrent-ext) and raindrops's Raindrops#incr; target: no slower
# than the faster of them, as printed. (Four processes sharing one counter:
# counter.rb.) AtomicFixnum's C increment is a plain read and write of a
# Ruby object's field, atomic only through the GVL; AtomicInteger and
# raindrops need a locked instruction (a compare-and-swap, an xadd), since
# other processes write the same memory: about 5% of an increment here.

require_relative "support"
require "concurrent"
require "raindrops"

raise "concurrent-ruby's C extension is not loaded" unless Concurrent.c_extensions_loaded?

atomic = ProcessShared::AtomicInteger.new
array = ProcessShared::SharedArray.new(:int64, 1)
fixnum = Concurrent::AtomicFixnum.new
drops = Raindrops.new(1)
here = binding

entries = {
  "Concurrent::AtomicFixnum#increment" => Bench.looped(here, "fixnum.increment"),
  "Raindrops#incr" => Bench.looped(here, "drops.incr(0)"),
  "AtomicInteger#increment" => Bench.looped(here, "atomic.increment"),
  "SharedArray#increment" => Bench.looped(here, "array.increment(0)")
}
costs = Bench.compare("increment one counter (single process)", "Concurrent::AtomicFixnum#increment", entries)
# The faster baseline, by the ratios paired within each round.
fastest = ["Concurrent::AtomicFixnum#increment", "Raindrops#incr"].min_by { |label| costs.ratios.fetch(label) }
puts
Bench.target(costs, "AtomicInteger#increment", fastest, 1.0)
