# frozen_string_literal: true

require "zlib"

SharedMemoryObjectSpecPoint = Struct.new(:x, :y)

RSpec.describe ProcessShared::SharedMemory, "objects" do
  header = 16

  let(:sample) do
    { "name" => "ünïcödé", :list => [1, 2.5, nil, true, 2**70], "bin" => "\xFF\x00".b,
      point: SharedMemoryObjectSpecPoint.new(1, 2) }
  end

  it "reads in the parent what a child wrote, at offset 0 and at other offsets" do
    memory = described_class.new(1024)
    pid = fork_child do
      memory.write_object(%w[a b])
      memory.put_object(300, sample)
    end
    expect_children_to_succeed([pid])
    expect(memory.read_object).to eq(%w[a b])
    expect(memory.get_object(300)).to eq(sample)
  end

  it "reads in a child what the parent wrote" do
    memory = described_class.new(512)
    memory.put_object(100, sample)
    memory.write_object(:first)
    expected = sample
    pid = fork_child do
      raise "wrong object at 100" unless memory.get_object(100) == expected
      raise "wrong object at 0" unless memory.read_object == :first
    end
    expect_children_to_succeed([pid])
  end

  it "returns self from the writers and a new, equal object from the readers" do
    memory = described_class.new(256)
    string = +"text"
    expect(memory.put_object(0, string)).to equal(memory)
    expect(memory.write_object(string)).to equal(memory)
    read = memory.read_object
    expect(read).to eq("text")
    expect(read).not_to equal(string)
    expect(read.encoding).to eq(Encoding::UTF_8)
  end

  it "tells nil and false stored from nothing stored" do
    memory = described_class.new(64)
    memory.write_object(nil)
    expect(memory.read_object).to be_nil
    memory.put_object(32, false)
    expect(memory.get_object(32)).to be(false)
  end

  it "stores the documented layout: magic, CRC-32, length, Marshal data" do
    memory = described_class.new(64)
    memory.put_object(3, [1])
    dumped = Marshal.dump([1])
    expect(memory.get_bytes(3, 4)).to eq("PSO\x01".b)
    length_field = [dumped.bytesize].pack("Q<")
    expect(memory.get_bytes(7, 4).unpack1("L<")).to eq(Zlib.crc32(length_field + dumped))
    expect(memory.get_bytes(11, 8)).to eq(length_field)
    expect(memory.get_bytes(3 + header, dumped.bytesize)).to eq(dumped)
  end

  describe "when the object does not fit" do
    it "fits exactly at the end of the region" do
      object = "x" * 50
      size = Marshal.dump(object).bytesize + header
      memory = described_class.new(size + 5)
      memory.put_object(5, object)
      expect(memory.get_object(5)).to eq(object)
    end

    it "raises IndexError and writes nothing, leaving the previous object readable" do
      object = "x" * 50
      size = Marshal.dump(object).bytesize + header
      memory = described_class.new(size + 5)
      memory.write_object(:previous)
      before = memory.get_bytes(0, size + 5)
      expect { memory.put_object(6, object) }.to raise_error(IndexError, /do not fit/)
      expect { memory.write_object("y" * 200) }.to raise_error(IndexError)
      expect { memory.put_object(size + 6, 1) }.to raise_error(IndexError)
      expect { memory.put_object(-1, 1) }.to raise_error(IndexError)
      expect(memory.get_bytes(0, size + 5)).to eq(before)
      expect(memory.read_object).to eq(:previous)
    end
  end

  describe "when no object is stored" do
    it "raises TypeError for zero-filled memory, anywhere" do
      memory = described_class.new(100)
      expect { memory.read_object }.to raise_error(TypeError, /no object stored at offset 0/)
      expect { memory.get_object(40) }.to raise_error(TypeError, /no object stored at offset 40/)
    end

    it "raises TypeError where a header cannot fit and IndexError past the end" do
      memory = described_class.new(100)
      memory.put_bytes(90, "PSO\x01".b)
      expect { memory.get_object(90) }.to raise_error(TypeError)
      expect { memory.get_object(100) }.to raise_error(TypeError)
      expect { memory.get_object(101) }.to raise_error(IndexError)
      expect { memory.get_object(-1) }.to raise_error(IndexError)
      expect { memory.get_object("0") }.to raise_error(TypeError)
    end

    it "raises TypeError for bytes that are not a record, such as raw Marshal data" do
      memory = described_class.new(100)
      memory.put_bytes(0, Marshal.dump(%w[a b]))
      expect { memory.read_object }.to raise_error(TypeError, /no object header/)
    end

    it "raises TypeError for a truncated record" do
      memory = described_class.new(200)
      memory.write_object(sample)
      length = memory.get_bytes(8, 8).unpack1("Q<")
      memory.put_bytes(8, [length - 3].pack("Q<"))
      expect { memory.read_object }.to raise_error(TypeError, /checksum/)
    end

    it "raises TypeError for a length past the end of the region, without reading there" do
      memory = described_class.new(200)
      memory.write_object(sample)
      [200 - header + 1, 2**63, (2**64) - 1].each do |length|
        memory.put_bytes(8, [length].pack("Q<"))
        expect { memory.read_object }.to raise_error(TypeError, /past the end/)
      end
    end

    it "raises TypeError for a corrupted record" do
      memory = described_class.new(200)
      memory.write_object(sample)
      memory.put_uint8(header + 10, memory.get_uint8(header + 10) ^ 0x20)
      expect { memory.read_object }.to raise_error(TypeError, /checksum/)
    end
  end

  it "raises Marshal's TypeError for objects it cannot dump, and writes nothing" do
    memory = described_class.new(256)
    memory.write_object("kept")
    before = memory.get_bytes(0, 256)
    undumpable = [proc { 1 }, $stdout, Object.new.tap { |o| o.define_singleton_method(:x) { 1 } }, Thread::Mutex.new]
    undumpable.each do |object|
      expect { memory.write_object(object) }.to raise_error(TypeError)
      expect { memory.put_object(100, [1, object]) }.to raise_error(TypeError)
    end
    expect(memory.get_bytes(0, 256)).to eq(before)
    expect(memory.read_object).to eq("kept")
  end

  it "raises ClosedError after close" do
    memory = described_class.new(64)
    memory.write_object(1)
    memory.close
    expect { memory.read_object }.to raise_error(ProcessShared::ClosedError)
    expect { memory.write_object(1) }.to raise_error(ProcessShared::ClosedError)
  end

  it "works on a SharedArray, at byte offsets" do
    array = ProcessShared::SharedArray.new(:int64, 32)
    array.put_object(8, sample)
    expect(array.get_object(8)).to eq(sample)
    expect(array[0]).to eq(0)
  end

  it "gives a reader racing a writer either a whole object or a TypeError" do
    memory = described_class.new(64 * 1024)
    small = Array.new(10) { |i| "small #{i}" }
    large = Array.new(2000) { |i| "large #{i}" }
    memory.write_object(small)
    stop = described_class.new(:int)
    writer = fork_child do
      [large, small].cycle do |object|
        break unless stop.get_int(0).zero?

        memory.write_object(object)
      end
    end
    outcomes = Hash.new(0)
    deadline = monotonic_now + 2
    while monotonic_now < deadline
      begin
        object = memory.read_object
        outcomes[object == small || object == large ? :whole : :wrong] += 1
      rescue TypeError
        outcomes[:type_error] += 1
      end
    end
    stop.put_int(0, 1)
    expect_children_to_succeed([writer])
    expect(outcomes[:wrong]).to eq(0)
    expect(outcomes[:whole] + outcomes[:type_error]).to be > 0
  end
end
