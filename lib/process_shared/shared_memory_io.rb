# frozen_string_literal: true

require "process_shared/shared_memory"

module ProcessShared
  # An IO-like, binary stream over a {SharedMemory}, for code that wants a
  # stream, such as +Marshal.dump(obj, io)+ and +Marshal.load(io)+.
  #
  #   io = ProcessShared::SharedMemoryIO.new(memory)
  #   Marshal.dump(obj, io)
  #   io.rewind
  #   Marshal.load(io)
  #
  # The position belongs to this object in this process: other
  # SharedMemoryIO objects, and other processes, have their own. The bytes
  # are the shared memory's, so other processes see what is written.
  #
  # Reads stop at the end of the memory, as a file's at its end; a write
  # that would run past the end raises IndexError and writes nothing. The
  # position may be set past the end (reads then find EOF), but not before
  # the start (Errno::EINVAL). Every +read+ and +write+ is one copy in native
  # code. Strings read are binary (ASCII-8BIT).
  #
  # Closing the stream does not close the memory. Methods of IO that need a
  # file descriptor or a process ({NOT_IMPLEMENTED}) raise
  # NotImplementedError, and +respond_to?+ is false for them, as for core
  # methods a platform lacks.
  class SharedMemoryIO # rubocop:disable Metrics/ClassLength -- IO's interface is large
    # IO methods that have no meaning over memory.
    NOT_IMPLEMENTED = %i[
      advise autoclose= autoclose? close_on_exec= close_on_exec? close_read close_write
      fcntl fdatasync fileno fsync ioctl pid read_nonblock reopen stat
      sysread sysseek syswrite to_i to_io ungetbyte ungetc write_nonblock
    ].freeze

    # @return [SharedMemory] the memory this stream reads and writes
    attr_reader :memory

    # @param memory [SharedMemory]
    # @raise [TypeError] if +memory+ is not a {SharedMemory}
    # @raise [ClosedError] if +memory+ is closed
    def initialize(memory)
      raise TypeError, "expected a ProcessShared::SharedMemory, got #{memory.class}" unless memory.is_a?(SharedMemory)

      @memory = memory
      # Bytes, also for a SharedArray, whose #size counts elements.
      @size = SharedMemory.instance_method(:size).bind_call(memory)
      @pos = 0
      @closed = false
    end

    # Reads +length+ bytes, or up to the end without a length, as IO#read:
    # at the end +read+ gives "" and +read(length)+ gives nil; +read(0)+ is
    # always "". With +buffer+, the bytes replace its contents and it is
    # returned.
    #
    # @param length [Integer, nil]
    # @param buffer [String, nil]
    # @return [String, nil]
    # @raise [ArgumentError] if +length+ is negative
    def read(length = nil, buffer = nil)
      ensure_open
      length = integer(length) unless length.nil?
      raise ArgumentError, "negative length #{length} given" if length&.negative?

      buffer = writable_buffer(buffer)
      available = [@size - @pos, 0].max
      data = if length.nil? then take(available)
             elsif length.zero? then String.new(encoding: Encoding::BINARY)
             elsif available.positive? then take([length, available].min)
             end
      fill(buffer, data)
    end

    # Reads 1 to +maxlen+ bytes, as IO#readpartial: like {#read}, but at the
    # end it raises EOFError (+readpartial(0)+ is still "").
    #
    # @return [String]
    # @raise [EOFError] at the end
    def readpartial(maxlen, buffer = nil)
      data = read(maxlen, buffer)
      raise EOFError, "end of file reached" if data.nil?

      data
    end

    # Writes the objects (converted with +to_s+) at the position and moves
    # past them. All of them are written, or (when they do not fit before
    # the end) none.
    #
    # @return [Integer] the number of bytes written
    # @raise [IndexError] if the bytes do not fit; nothing is written
    def write(*objects)
      ensure_open
      data = objects.length == 1 ? objects.first.to_s : objects.map(&:to_s).join
      return 0 if data.empty?

      @memory.put_bytes(@pos, data)
      @pos += data.bytesize
      data.bytesize
    end

    # Writes +object+ (with +to_s+).
    #
    # @return [self]
    def <<(object)
      write(object)
      self
    end

    # @return [Integer, nil] the next byte, or nil at the end
    def getbyte
      ensure_open
      return nil if @pos >= @size

      byte = @memory.get_uint8(@pos)
      @pos += 1
      byte
    end

    # @return [Integer] the next byte
    # @raise [EOFError] at the end
    def readbyte
      getbyte or raise EOFError, "end of file reached"
    end

    # @return [String, nil] the next byte as a one-byte binary String, or
    #   nil at the end
    def getc
      read(1)
    end

    # @return [String] the next byte as a one-byte binary String
    # @raise [EOFError] at the end
    def readchar
      getc or raise EOFError, "end of file reached"
    end

    # Yields each byte from the position to the end.
    #
    # @return [self, Enumerator] self; an Enumerator without a block
    def each_byte
      return enum_for(:each_byte) unless block_given?

      while (byte = getbyte)
        yield byte
      end
      self
    end

    # Moves the position, as IO#seek: +whence+ is +IO::SEEK_SET+ (or +:SET+),
    # +IO::SEEK_CUR+ (+:CUR+) or +IO::SEEK_END+ (+:END+).
    #
    # @return [0]
    # @raise [Errno::EINVAL] for a position before the start, or another whence
    def seek(amount, whence = IO::SEEK_SET)
      ensure_open
      base = case whence
             when IO::SEEK_SET, :SET then 0
             when IO::SEEK_CUR, :CUR then @pos
             when IO::SEEK_END, :END then @size
             else raise Errno::EINVAL, "whence #{whence.inspect}"
             end
      self.pos = base + integer(amount)
      0
    end

    # @return [Integer] the position, in bytes from the start
    def pos
      ensure_open
      @pos
    end
    alias tell pos

    # @param position [Integer]
    # @raise [Errno::EINVAL] if +position+ is negative
    def pos=(position)
      ensure_open
      position = integer(position)
      raise Errno::EINVAL, "position #{position}" if position.negative?

      @pos = position
    end

    # Moves to the start.
    #
    # @return [0]
    def rewind
      self.pos = 0
      0
    end

    # @return [Boolean] whether the position is at (or past) the end
    def eof?
      ensure_open
      @pos >= @size
    end
    alias eof eof?

    # Always binary: does nothing.
    #
    # @return [self]
    def binmode
      ensure_open
      self
    end

    # @return [true]
    def binmode?
      ensure_open
      true
    end

    # Memory needs no flushing: always true.
    #
    # @return [true]
    def sync
      ensure_open
      true
    end

    # Ignored (writes always reach the memory at once), as StringIO does.
    #
    # @param _value [Boolean]
    def sync=(_value)
      ensure_open
    end

    # Nothing to flush.
    #
    # @return [self]
    def flush
      ensure_open
      self
    end

    # @return [false]
    def tty?
      ensure_open
      false
    end
    alias isatty tty?

    # Closes the stream, not the memory; idempotent.
    #
    # @return [nil]
    def close
      @closed = true
      nil
    end

    # @return [Boolean] whether this stream (or its memory) is closed; false
    #   for one never initialized (whose methods raise {ClosedError} all the same)
    def closed?
      @closed || (!@memory.nil? && @memory.closed?)
    end

    # As on a closed IO, a closed stream raises {ClosedError} first.
    NOT_IMPLEMENTED.each do |name|
      define_method(name) do |*|
        ensure_open
        raise NotImplementedError, "#{self.class}##{name} is not supported: shared memory is not a file"
      end
    end

    # False for {NOT_IMPLEMENTED} methods, as for core methods that a
    # platform lacks.
    def respond_to?(name, include_all = false) # rubocop:disable Style/OptionalBooleanParameter
      return false if NOT_IMPLEMENTED.include?(name.to_sym)

      super
    end

    private

    def ensure_open
      raise ClosedError, "not initialized" if @memory.nil?
      raise ClosedError, "closed stream" if @closed
      raise ClosedError, "the shared memory is closed" if @memory.closed?
    end

    # The next +length+ bytes (within the memory), moving past them.
    def take(length)
      data = length.zero? ? String.new(encoding: Encoding::BINARY) : @memory.get_bytes(@pos, length)
      @pos += length
      data
    end

    # +buffer+ if it may receive the bytes read, checked before reading.
    def writable_buffer(buffer)
      return nil if buffer.nil?

      string = String.try_convert(buffer) or
        raise TypeError, "no implicit conversion of #{buffer.class} into String"
      raise FrozenError.new("can't modify frozen String: #{string.inspect}", receiver: string) if string.frozen?

      string
    end

    # IO#read's result: +data+, or +buffer+ with +data+ in it.
    def fill(buffer, data)
      return data if buffer.nil?

      buffer.replace(data || "").force_encoding(Encoding::BINARY)
      data && buffer
    end

    def integer(value)
      Integer.try_convert(value) or
        raise TypeError, "no implicit conversion of #{value.class} into Integer"
    end
  end
end
