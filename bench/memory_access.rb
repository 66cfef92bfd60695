# frozen_string_literal: true

# Target 5: SharedMemory#get_int64/#put_int64 and SharedArray#[]/#[]= at
# least as fast as FFI::MemoryPointer#get_int64/#put_int64 on the same values.

require_relative "support"
require "ffi"

shared = ProcessShared::SharedMemory.new(:int64, 16)
array = ProcessShared::SharedArray.new(:int64, 16)
pointer = FFI::MemoryPointer.new(:int64, 16)
value = 123_456_789
here = binding

Bench.compare("get_int64", "FFI::MemoryPointer#get_int64",
              "FFI::MemoryPointer#get_int64" => Bench.looped(here, "pointer.get_int64(8)"),
              "SharedMemory#get_int64" => Bench.looped(here, "shared.get_int64(8)"),
              "SharedArray#[]" => Bench.looped(here, "array[1]"),
              # The floor: Ruby's own cost of calling a one-argument C method
              # (BasicObject#equal? compares two words), which every reader
              # above pays too.
              "BasicObject#equal? (floor)" => Bench.looped(here, "pointer.equal?(8)"))

Bench.compare("put_int64", "FFI::MemoryPointer#put_int64",
              "FFI::MemoryPointer#put_int64" => Bench.looped(here, "pointer.put_int64(8, value)"),
              "SharedMemory#put_int64" => Bench.looped(here, "shared.put_int64(8, value)"),
              "SharedArray#[]=" => Bench.looped(here, "array[1] = value"))
