# frozen_string_literal: true

# Target: SharedMemory#get_int64/#put_int64 at least as fast as
# FFI::MemoryPointer's on the same values.
#
# Each entry loops itself (benchmark-ips passes the iteration count), so the
# figures are the operations' own cost, not a block call's.

require_relative "support"
require "ffi"

shared = ProcessShared::SharedMemory.new(:int64, 16)
pointer = FFI::MemoryPointer.new(:int64, 16)
value = 123_456_789

Bench.compare("get_int64", "FFI::MemoryPointer#get_int64",
              "FFI::MemoryPointer#get_int64" => lambda { |n|
                i = 0
                while i < n
                  pointer.get_int64(8)
                  i += 1
                end
              },
              "SharedMemory#get_int64" => lambda { |n|
                i = 0
                while i < n
                  shared.get_int64(8)
                  i += 1
                end
              })

Bench.compare("put_int64", "FFI::MemoryPointer#put_int64",
              "FFI::MemoryPointer#put_int64" => lambda { |n|
                i = 0
                while i < n
                  pointer.put_int64(8, value)
                  i += 1
                end
              },
              "SharedMemory#put_int64" => lambda { |n|
                i = 0
                while i < n
                  shared.put_int64(8, value)
                  i += 1
                end
              })

array = ProcessShared::SharedArray.new(:int64, 16)

Bench.compare("SharedArray#[] vs get_int64", "FFI::MemoryPointer#get_int64",
              "FFI::MemoryPointer#get_int64" => lambda { |n|
                i = 0
                while i < n
                  pointer.get_int64(8)
                  i += 1
                end
              },
              "SharedArray#[]" => lambda { |n|
                i = 0
                while i < n
                  array[1]
                  i += 1
                end
              })

Bench.compare("SharedArray#[]= vs put_int64", "FFI::MemoryPointer#put_int64",
              "FFI::MemoryPointer#put_int64" => lambda { |n|
                i = 0
                while i < n
                  pointer.put_int64(8, value)
                  i += 1
                end
              },
              "SharedArray#[]=" => lambda { |n|
                i = 0
                while i < n
                  array[1] = value
                  i += 1
                end
              })
