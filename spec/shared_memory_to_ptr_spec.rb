# frozen_string_literal: true

require "open3"
require "rbconfig"

RSpec.describe ProcessShared::SharedMemory, "#to_ptr" do
  lib_dir = File.expand_path("../lib", __dir__)

  def run_ruby(lib_dir, script)
    Timeout.timeout(60) { Open3.capture2e(RbConfig.ruby, "-I", lib_dir, "-e", script) }
  end

  it "is not loaded with process_shared, and says FFI is needed when it is not loaded" do
    output, status = run_ruby(lib_dir, <<~RUBY)
      require "process_shared"
      abort "ffi was loaded" if defined?(FFI) || $LOADED_FEATURES.grep(/ffi/).any?
      begin
        ProcessShared::SharedMemory.new(8).to_ptr
        abort "no error"
      rescue NotImplementedError => e
        abort e.message unless e.message.include?('require "ffi"')
      end
    RUBY
    expect(output).to eq("")
    expect(status).to be_success
  end

  describe "with FFI loaded" do
    before(:context) { require "ffi" }

    let(:libc) do
      Module.new do
        extend FFI::Library
        ffi_lib FFI::Library::LIBC
        attach_function :memset, %i[pointer int size_t], :pointer
      end
    end

    it "points at the memory, bounded by its size in bytes" do
      memory = described_class.new(:int32, 4)
      memory.put_int32(8, 1234)
      pointer = memory.to_ptr
      expect(pointer).to be_a(FFI::Pointer)
      expect(pointer.size).to eq(16)
      expect(pointer.get_int32(8)).to eq(1234)
      expect { pointer.get_int32(16) }.to raise_error(IndexError)
    end

    it "spans a SharedArray's bytes" do
      expect(ProcessShared::SharedArray.new(:double, 3).to_ptr.size).to eq(24)
    end

    it "lets a child write through FFI, and a C function, what the parent reads" do
      memory = described_class.new(64)
      pointer = memory.to_ptr
      memset = libc
      pid = fork_child do
        pointer.put_int32(0, -42)
        memset.memset(pointer + 16, 0x5A, 8)
      end
      expect_children_to_succeed([pid])
      expect(memory.get_int32(0)).to eq(-42)
      expect(memory.get_bytes(16, 9)).to eq("ZZZZZZZZ\0")
    end

    it "lets the parent write through FFI what a child reads" do
      memory = described_class.new(:int64, 2)
      memory.to_ptr.put_int64(8, 2**40)
      pid = fork_child { raise "child read #{memory.get_int64(8)}" unless memory.get_int64(8) == 2**40 }
      expect_children_to_succeed([pid])
    end

    it "keeps the memory mapped while a pointer from it lives, even after close" do
      memory = described_class.new(:int32, 2)
      memory.put_int32(4, 99)
      pointer = memory.to_ptr + 4
      memory.close
      GC.start
      expect(pointer.get_int32(0)).to eq(99)
      pointer.put_int32(0, 100)
      expect(pointer.get_int32(0)).to eq(100)
    end

    it "raises ClosedError after close" do
      memory = described_class.new(8)
      memory.close
      expect { memory.to_ptr }.to raise_error(ProcessShared::ClosedError)
    end

    it "cannot make a mapping from Ruby" do
      expect { ProcessShared::SharedMemory::Mapping.new }.to raise_error(TypeError, /allocator undefined/)
    end
  end
end
