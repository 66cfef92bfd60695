# frozen_string_literal: true

# Atomic counters in one process: AtomicInteger#increment against
# concurrent-ruby's AtomicFixnum (its C extension, Debian's
# ruby-concurrent-ext) and raindrops's Raindrops#incr; target: no slower
# than the faster of them. (Four processes sharing one counter: counter.rb.)

require_relative "support"
require "concurrent"
require "raindrops"

raise "concurrent-ruby's C extension is not loaded" unless Concurrent.c_extensions_loaded?

atomic = ProcessShared::AtomicInteger.new
array = ProcessShared::SharedArray.new(:int64, 1)
fixnum = Concurrent::AtomicFixnum.new
drops = Raindrops.new(1)
here = binding

Bench.compare("increment one counter (single process)", "Concurrent::AtomicFixnum#increment",
              "Concurrent::AtomicFixnum#increment" => Bench.looped(here, "fixnum.increment"),
              "Raindrops#incr" => Bench.looped(here, "drops.incr(0)"),
              "AtomicInteger#increment" => Bench.looped(here, "atomic.increment"),
              "SharedArray#increment" => Bench.looped(here, "array.increment(0)"))
