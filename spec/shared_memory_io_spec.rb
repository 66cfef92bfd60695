# frozen_string_literal: true

RSpec.describe ProcessShared::SharedMemoryIO do
  let!(:memory) { ProcessShared::SharedMemory.new(8).tap { |m| m.put_bytes(0, "abcdefgh") } }
  let!(:io) { described_class.new(memory) }

  it "needs a SharedMemory" do
    expect { described_class.new("abc") }.to raise_error(TypeError)
    expect(io.memory).to equal(memory)
  end

  describe "#read" do
    it "reads everything from the position without a length, then empty strings" do
      io.pos = 3
      expect(io.read).to eq("defgh")
      expect(io.read).to eq("")
      expect(io.read).to eq("")
    end

    it "reads up to length bytes, then nil at the end" do
      expect(io.read(3)).to eq("abc")
      expect(io.read(100)).to eq("defgh")
      expect(io.read(1)).to be_nil
      expect(io.pos).to eq(8)
    end

    it "reads an empty string for length 0, even at the end" do
      expect(io.read(0)).to eq("")
      io.seek(0, IO::SEEK_END)
      expect(io.read(0)).to eq("")
    end

    it "returns binary strings" do
      expect(io.read(2).encoding).to eq(Encoding::BINARY)
      expect(io.read.encoding).to eq(Encoding::BINARY)
    end

    it "fills a buffer, which it returns, and empties it at the end" do
      buffer = +"previous contents"
      expect(io.read(4, buffer)).to equal(buffer)
      expect(buffer).to eq("abcd")
      expect(buffer.encoding).to eq(Encoding::BINARY)
      expect(io.read(nil, buffer)).to equal(buffer)
      expect(buffer).to eq("efgh")
      expect(io.read(5, buffer)).to be_nil
      expect(buffer).to eq("")
      expect(io.read(nil, buffer)).to eq("")
    end

    it "refuses negative lengths, bad buffers and frozen buffers without moving" do
      expect { io.read(-1) }.to raise_error(ArgumentError)
      expect { io.read("1") }.to raise_error(TypeError)
      expect { io.read(2, 5) }.to raise_error(TypeError)
      expect { io.read(2, "frozen") }.to raise_error(FrozenError)
      expect(io.pos).to eq(0)
    end

    it "reads what another process wrote" do
      pid = fork_child { memory.put_bytes(0, "XYZ") }
      expect_children_to_succeed([pid])
      expect(io.read(4)).to eq("XYZd")
    end
  end

  describe "#readpartial" do
    it "reads what is left up to maxlen, then raises EOFError" do
      io.pos = 6
      expect(io.readpartial(10)).to eq("gh")
      expect(io.readpartial(0)).to eq("")
      expect { io.readpartial(1) }.to raise_error(EOFError)
    end
  end

  describe "#write" do
    it "writes at the position, moves past the bytes and returns their count" do
      io.pos = 2
      expect(io.write("XY")).to eq(2)
      expect(io.pos).to eq(4)
      expect(memory.get_bytes(0, 8)).to eq("abXYefgh")
    end

    it "writes several objects converted with to_s, and nothing for none" do
      expect(io.write("A", 1, :b)).to eq(3)
      expect(io.write).to eq(0)
      expect(io << "C" << 2).to equal(io)
      expect(memory.get_bytes(0, 8)).to eq("A1bC2fgh")
    end

    it "writes up to the very end" do
      io.seek(-2, IO::SEEK_END)
      expect(io.write("YZ".b)).to eq(2)
      expect(io.eof?).to be(true)
      expect(memory.get_bytes(6, 2)).to eq("YZ")
    end

    it "raises IndexError past the end and writes nothing" do
      io.pos = 6
      expect { io.write("XYZ") }.to raise_error(IndexError)
      expect { io.write("X", "YZ") }.to raise_error(IndexError)
      expect(io.pos).to eq(6)
      io.pos = 20
      expect { io.write("X") }.to raise_error(IndexError)
      expect(memory.get_bytes(0, 8)).to eq("abcdefgh")
    end

    it "writes multibyte strings as their bytes" do
      expect(io.write("é")).to eq(2)
      expect(memory.get_bytes(0, 2)).to eq("é".b)
    end
  end

  describe "positioning" do
    it "rewinds to the start" do
      expect(io.read).to eq("abcdefgh")
      expect(io.rewind).to eq(0)
      expect(io.pos).to eq(0)
      expect(io.read(3)).to eq("abc")
    end

    it "seeks from the start, the position or the end, with constants or symbols" do
      expect(io.seek(2)).to eq(0)
      expect(io.read(1)).to eq("c")
      io.seek(2, IO::SEEK_CUR)
      expect(io.read(1)).to eq("f")
      io.seek(-3, IO::SEEK_CUR)
      expect(io.tell).to eq(3)
      io.seek(-1, IO::SEEK_END)
      expect(io.read).to eq("h")
      io.seek(1, :SET)
      io.seek(1, :CUR)
      expect(io.pos).to eq(2)
      io.seek(0, :END)
      expect(io.pos).to eq(8)
    end

    it "may go past the end, where reads find the end" do
      io.seek(5, IO::SEEK_END)
      expect(io.pos).to eq(13)
      expect(io.eof?).to be(true)
      expect(io.read).to eq("")
      expect(io.read(1)).to be_nil
      expect(io.getbyte).to be_nil
    end

    it "raises Errno::EINVAL before the start, or for another whence, without moving" do
      io.pos = 3
      expect { io.seek(-1) }.to raise_error(Errno::EINVAL)
      expect { io.seek(-4, IO::SEEK_CUR) }.to raise_error(Errno::EINVAL)
      expect { io.seek(-9, IO::SEEK_END) }.to raise_error(Errno::EINVAL)
      expect { io.pos = -1 }.to raise_error(Errno::EINVAL)
      expect { io.seek(0, 42) }.to raise_error(Errno::EINVAL)
      expect { io.seek("1") }.to raise_error(TypeError)
      expect(io.pos).to eq(3)
    end

    it "belongs to each stream object" do
      other = described_class.new(memory)
      io.read(5)
      expect(other.pos).to eq(0)
      expect(other.read(1)).to eq("a")
    end

    it "tells the end" do
      expect(io.eof?).to be(false)
      io.read
      expect(io.eof?).to be(true)
      expect(io.eof).to be(true)
    end
  end

  describe "bytes and characters" do
    it "gets bytes, then nil at the end" do
      io.pos = 6
      expect([io.getbyte, io.getbyte, io.getbyte]).to eq([103, 104, nil])
    end

    it "reads bytes, then raises EOFError at the end" do
      io.pos = 7
      expect(io.readbyte).to eq(104)
      expect { io.readbyte }.to raise_error(EOFError)
    end

    it "gets one-byte binary strings as characters" do
      memory.put_bytes(0, "é".b)
      expect(io.getc).to eq("\xC3".b)
      expect(io.getc.encoding).to eq(Encoding::BINARY)
      io.seek(0, :END)
      expect(io.getc).to be_nil
      expect { io.readchar }.to raise_error(EOFError)
    end

    it "yields each byte to the end, returning self, or an Enumerator" do
      io.pos = 5
      bytes = []
      expect(io.each_byte { |byte| bytes << byte }).to equal(io)
      expect(bytes).to eq("fgh".bytes)
      io.rewind
      expect(io.each_byte.first(2)).to eq([97, 98])
    end
  end

  it "answers the IO queries as a binary, synchronous stream" do
    expect(io.binmode).to equal(io)
    expect(io.binmode?).to be(true)
    expect(io.sync).to be(true)
    io.sync = false
    expect(io.sync).to be(true)
    expect(io.flush).to equal(io)
    expect(io.tty?).to be(false)
    expect(io.isatty).to be(false)
  end

  it "raises NotImplementedError for IO methods that need a file, and does not respond to them" do
    %i[fileno to_i ioctl fcntl reopen sysseek sysread syswrite stat to_io fsync ungetc].each do |name|
      expect { io.public_send(name) }.to raise_error(NotImplementedError)
      expect(io.respond_to?(name)).to be(false)
    end
    expect(io.respond_to?(:read)).to be(true)
  end

  it "raises ClosedError (an IOError) once closed, without closing the memory" do
    expect(io.close).to be_nil
    expect(io.close).to be_nil
    expect(io.closed?).to be(true)
    %i[read getbyte eof? pos rewind].each do |name|
      expect { io.public_send(name) }.to raise_error(IOError, /closed/)
    end
    expect { io.write("x") }.to raise_error(ProcessShared::ClosedError)
    expect(memory.closed?).to be(false)
    expect(memory.get_bytes(0, 1)).to eq("a")
  end

  it "raises ClosedError once its memory is closed" do
    memory.close
    expect(io.closed?).to be(true)
    expect { io.read }.to raise_error(ProcessShared::ClosedError)
  end

  it "streams Marshal data from a child to the parent and back" do
    shared = ProcessShared::SharedMemory.new(4096)
    object = { "list" => (1..50).to_a, :text => "ünïcödé" * 20, nested: [[1.5, nil], { a: :b }] }
    pid = fork_child do
      child_io = described_class.new(shared)
      Marshal.dump(object, child_io)
    end
    expect_children_to_succeed([pid])
    parent_io = described_class.new(shared)
    expect(Marshal.load(parent_io)).to eq(object) # rubocop:disable Security/MarshalLoad
    parent_io.rewind
    Marshal.dump([object, :again], parent_io)
    pid = fork_child do
      child_io = described_class.new(shared)
      raise "child read something else" unless Marshal.load(child_io) == [object, :again] # rubocop:disable Security/MarshalLoad
    end
    expect_children_to_succeed([pid])
  end

  it "raises from Marshal.dump when the data runs past the end" do
    small = described_class.new(ProcessShared::SharedMemory.new(16))
    expect { Marshal.dump("x" * 100, small) }.to raise_error(IndexError)
  end

  it "spans a SharedArray's bytes, not its element count" do
    array = ProcessShared::SharedArray.new(:int32, 2)
    array[1] = 0x01020304
    array_io = described_class.new(array)
    expect(array_io.read.bytesize).to eq(8)
    array_io.seek(-4, IO::SEEK_END)
    expect(array_io.read(4).unpack1("l")).to eq(0x01020304)
  end
end
