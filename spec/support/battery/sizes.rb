# frozen_string_literal: true

# Sizes, counts, element types and initial values given to constructors.
module Battery
  BAD_SIZES = {
    0 => ArgumentError, -1 => ArgumentError, -(2**70) => ArgumentError,
    2**41 => ArgumentError, 2**62 => ArgumentError, 2**64 => ArgumentError, 2**100 => ArgumentError,
    "8" => TypeError, 8.0 => TypeError, nil => TypeError, Object.new => TypeError, [8] => TypeError
  }.freeze

  table "sizes and counts" do
    memory = ProcessShared::SharedMemory
    array = ProcessShared::SharedArray
    constructors = {
      "SharedMemory.new(size)" => ->(size) { memory.new(size) },
      "SharedMemory.new(:int, count)" => ->(count) { memory.new(:int, count) },
      "SharedMemory.new(:uint64, count)" => ->(count) { memory.new(:uint64, count) },
      "SharedMemory.open(:double, count) {}" => ->(count) { memory.open(:double, count) { :opened } },
      "SharedArray.new(count)" => ->(count) { array.new(count) },
      "SharedArray.new(:char, count)" => ->(count) { array.new(:char, count) },
      "SharedArray.new(:long_long, count)" => ->(count) { array.new(:long_long, count) }
    }
    constructors.flat_map do |form, construct|
      BAD_SIZES.map do |size, error|
        bad("#{form} with #{size.inspect}", error) { construct.call(size) }
      end
    end
  end

  table "element types" do
    unknown = %i[foo pointer string void bool int128 INT Int unsigned_int size_t] + [:"", :"int "]
    strings = %w[int uint8 double]
    others = [nil, Object.new, 4.0, [:int], ProcessShared::SharedMemory]
    forms = {
      "SharedMemory.new(type)" => ->(type) { ProcessShared::SharedMemory.new(type) },
      "SharedMemory.new(type, 4)" => ->(type) { ProcessShared::SharedMemory.new(type, 4) },
      "SharedArray.new(type, 4)" => ->(type) { ProcessShared::SharedArray.new(type, 4) }
    }
    forms.flat_map do |form, construct|
      unknown.map { |type| bad("#{form} with #{type.inspect}", ArgumentError) { construct.call(type) } } +
        strings.map { |type| bad("#{form} with #{type.inspect}", TypeError) { construct.call(type) } } +
        others.map { |type| bad("#{form} with #{type.inspect}", TypeError) { construct.call(type) } }
    end + [
      bad("SharedMemory.new(8, 2): a byte size takes no count", ArgumentError) do
        ProcessShared::SharedMemory.new(8, 2)
      end,
      bad("SharedArray.new(8, 2): a byte count takes no count", ArgumentError) { ProcessShared::SharedArray.new(8, 2) }
    ]
  end

  table "initial values" do
    semaphore_values = {
      -1 => ArgumentError, -(2**70) => ArgumentError, 2**31 => ArgumentError, 2**32 => ArgumentError,
      2**64 => ArgumentError, 2**100 => ArgumentError,
      "1" => TypeError, 1.0 => TypeError, nil => TypeError, Object.new => TypeError, true => TypeError
    }
    binary_values = semaphore_values.merge(2 => ArgumentError, 3 => ArgumentError)
    semaphore_values.map do |value, error|
      bad("Semaphore.new(#{value.inspect})", error) { ProcessShared::Semaphore.new(value) }
    end + binary_values.map do |value, error|
      bad("BinarySemaphore.new(#{value.inspect})", error) { ProcessShared::BinarySemaphore.new(value) }
    end + semaphore_values.map do |value, error|
      bad("Semaphore.open(#{value.inspect}) {}", error) { ProcessShared::Semaphore.open(value) { :opened } }
    end
  end

  table "constructor arguments" do
    closed_semaphore = -> { ProcessShared::Semaphore.new.tap(&:close) }
    closed_memory = -> { ProcessShared::SharedMemory.new(8).tap(&:close) }
    [
      bad("SemaphoreMutex.new(Object.new)", TypeError) { ProcessShared::SemaphoreMutex.new(Object.new) },
      bad("SemaphoreMutex.new(nil)", TypeError) { ProcessShared::SemaphoreMutex.new(nil) },
      bad("SemaphoreMutex.new(a Mutex)", TypeError) { ProcessShared::SemaphoreMutex.new(ProcessShared::Mutex.new) },
      bad("SemaphoreMutex.new(a BinarySemaphore)", TypeError) do
        ProcessShared::SemaphoreMutex.new(ProcessShared::BinarySemaphore.new)
      end,
      bad("SemaphoreMutex.new(a closed Semaphore)", ProcessShared::ClosedError) do
        ProcessShared::SemaphoreMutex.new(closed_semaphore.call)
      end,
      bad("SemaphoreMutex.new(an uninitialized Semaphore)", ProcessShared::ClosedError) do
        ProcessShared::SemaphoreMutex.new(ProcessShared::Semaphore.allocate)
      end,
      bad("SharedMemoryIO.new(nil)", TypeError) { ProcessShared::SharedMemoryIO.new(nil) },
      bad("SharedMemoryIO.new(a String)", TypeError) { ProcessShared::SharedMemoryIO.new(+"bytes") },
      bad("SharedMemoryIO.new(a Semaphore)", TypeError) do
        ProcessShared::SharedMemoryIO.new(ProcessShared::Semaphore.new)
      end,
      bad("SharedMemoryIO.new(a closed SharedMemory)", ProcessShared::ClosedError) do
        ProcessShared::SharedMemoryIO.new(closed_memory.call)
      end,
      bad("SharedMemoryIO.new(an uninitialized SharedMemory)", ProcessShared::ClosedError) do
        ProcessShared::SharedMemoryIO.new(ProcessShared::SharedMemory.allocate)
      end,
      bad("SharedMemory::Mapping.new", TypeError) { ProcessShared::SharedMemory::Mapping.new },
      bad("SharedMemory::Mapping.allocate", TypeError) { ProcessShared::SharedMemory::Mapping.allocate }
    ]
  end
end
