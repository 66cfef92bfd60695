# frozen_string_literal: true

require "process_shared/shared_memory"

module ProcessShared
  # An IO-like, binary stream over a {SharedMemory}, for code that wants a
  # stream, such as `Marshal.dump(obj, io)` and `Marshal.load(io)`.
  #
  # The position belongs to this object in this process: other
  # SharedMemoryIO objects, and other processes, have their own. The bytes
  # are the shared memory's, so other processes see what is written.
  #
  # Reads stop at the end of the memory, as a file's at its end; a write
  # that would run past the end raises IndexError and writes nothing. The
  # position may be set past the end (reads then find EOF), but not before
  # the start (Errno::EINVAL). Every `read` and `write` is one copy in native
  # code. Strings read are binary (ASCII-8BIT).
  #
  # Closing the stream does not close the memory. Methods of IO that need a
  # file descriptor or a process ({NOT_IMPLEMENTED}) raise
  # NotImplementedError, and `respond_to?` is false for them, as for core
  # methods a platform lacks. No method blocks.
  #
  # @example Marshal through shared memory
  #   memory = ProcessShared::SharedMemory.new(4096)
  #   Process.wait(fork { Marshal.dump({ "pid" => Process.pid }, ProcessShared::SharedMemoryIO.new(memory)) })
  #   Marshal.load(ProcessShared::SharedMemoryIO.new(memory)) # => {"pid"=>12345}
  class SharedMemoryIO # rubocop:disable Metrics/ClassLength -- IO's interface is large
    # The memory this stream reads and writes.
    #
    # @return [SharedMemory]
    attr_reader :memory

    # The class, position and size, e.g.
    # `#<ProcessShared::SharedMemoryIO pos 0 of 16 bytes>`; never raises,
    # also after {#close}.
    # @return [String]
    def inspect
      return "#<#{self.class} closed>" if closed?

      "#<#{self.class} pos #{pos} of #{@size} bytes>"
    rescue IOError, NoMethodError
      "#<#{self.class} uninitialized>"
    end

    # A stream at the start of `memory`.
    #
    # @param memory [SharedMemory] the memory to read and write (a
    #   {SharedArray} too: the stream sees its bytes)
    # @raise [TypeError] if `memory` is not a {SharedMemory}
    # @raise [ClosedError] if `memory` is closed
    def initialize(memory)
      raise TypeError, "expected a ProcessShared::SharedMemory, got #{memory.class}" unless memory.is_a?(SharedMemory)

      @memory = memory
      # Bytes, also for a SharedArray, whose #size counts elements.
      @size = SharedMemory.instance_method(:size).bind_call(memory)
      @pos = 0
      @closed = false
    end

    # Reads `length` bytes, or up to the end without a length, as IO#read:
    # at the end `read` gives "" and `read(length)` gives nil; `read(0)` is
    # always "". With `buffer`, the bytes replace its contents and it is
    # returned.
    #
    # @param length [Integer, nil] bytes to read; nil for all up to the end
    # @param buffer [String, nil] a String to receive the bytes
    # @return [String, nil] the bytes (binary), or nil for `read(length)`
    #   at the end
    # @raise [ArgumentError] if `length` is negative
    # @raise [TypeError] if `length` is not an Integer or `buffer` not a
    #   String
    # @raise [FrozenError] if `buffer` is frozen
    # @raise [ClosedError] if the stream or its memory is closed
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

    # Reads 1 to `maxlen` bytes, as IO#readpartial: like {#read}, but at the
    # end it raises EOFError (`readpartial(0)` is still "").
    #
    # @param maxlen [Integer] the most bytes to read
    # @param buffer [String, nil] a String to receive the bytes
    # @return [String] the bytes (binary)
    # @raise [EOFError] at the end
    # @raise [ArgumentError] if `maxlen` is negative
    # @raise [ClosedError] if the stream or its memory is closed
    def readpartial(maxlen, buffer = nil)
      data = read(maxlen, buffer)
      raise EOFError, "end of file reached" if data.nil?

      data
    end

    # Writes the objects (converted with `to_s`) at the position and moves
    # past them. All of them are written, or (when they do not fit before
    # the end) none.
    #
    # @param objects [Array<#to_s>] what to write
    # @return [Integer] the number of bytes written
    # @raise [IndexError] if the bytes do not fit; nothing is written
    # @raise [ClosedError] if the stream or its memory is closed
    def write(*objects)
      ensure_open
      data = objects.length == 1 ? objects.first.to_s : objects.map(&:to_s).join
      return 0 if data.empty?

      @memory.put_bytes(@pos, data)
      @pos += data.bytesize
      data.bytesize
    end

    # Writes `object` (with `to_s`), as {#write}.
    #
    # @param object [#to_s]
    # @return [self]
    # @raise [IndexError] if the bytes do not fit; nothing is written
    # @raise [ClosedError] if the stream or its memory is closed
    def <<(object)
      write(object)
      self
    end

    # Reads the next byte.
    #
    # @return [Integer, nil] the byte (0..255), or nil at the end
    # @raise [ClosedError] if the stream or its memory is closed
    def getbyte
      ensure_open
      return nil if @pos >= @size

      byte = @memory.get_uint8(@pos)
      @pos += 1
      byte
    end

    # Reads the next byte, as {#getbyte} but raising at the end.
    #
    # @return [Integer] the byte (0..255)
    # @raise [EOFError] at the end
    # @raise [ClosedError] if the stream or its memory is closed
    def readbyte
      getbyte or raise EOFError, "end of file reached"
    end

    # Reads the next byte as a one-byte String: the stream is binary, so a
    # character is a byte.
    #
    # @return [String, nil] a one-byte binary String, or nil at the end
    # @raise [ClosedError] if the stream or its memory is closed
    def getc
      read(1)
    end

    # Reads the next byte as a one-byte String, as {#getc} but raising at
    # the end.
    #
    # @return [String] a one-byte binary String
    # @raise [EOFError] at the end
    # @raise [ClosedError] if the stream or its memory is closed
    def readchar
      getc or raise EOFError, "end of file reached"
    end

    # Yields each byte from the position to the end, moving past it.
    #
    # @yieldparam byte [Integer] 0..255
    # @return [self, Enumerator] self; an Enumerator without a block
    # @raise [ClosedError] if the stream or its memory is closed
    def each_byte
      return enum_for(:each_byte) unless block_given?

      while (byte = getbyte)
        yield byte
      end
      self
    end

    # Moves the position, as IO#seek: `whence` is `IO::SEEK_SET` (or `:SET`),
    # `IO::SEEK_CUR` (`:CUR`) or `IO::SEEK_END` (`:END`).
    #
    # @param amount [Integer] bytes from `whence`
    # @param whence [Integer, Symbol]
    # @return [0]
    # @raise [Errno::EINVAL] for a position before the start, or another whence
    # @raise [TypeError] if `amount` is not an Integer
    # @raise [ClosedError] if the stream or its memory is closed
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

    # The position, in bytes from the start. Also {#tell}.
    #
    # @return [Integer]
    # @raise [ClosedError] if the stream or its memory is closed
    def pos
      ensure_open
      @pos
    end
    alias tell pos

    # Moves to byte `position`, which may lie past the end (reads then find
    # the end).
    #
    # @param position [Integer]
    # @return [Integer] `position`
    # @raise [Errno::EINVAL] if `position` is negative
    # @raise [TypeError] if `position` is not an Integer
    # @raise [ClosedError] if the stream or its memory is closed
    def pos=(position)
      ensure_open
      position = integer(position)
      raise Errno::EINVAL, "position #{position}" if position.negative?

      @pos = position
    end

    # Moves to the start.
    #
    # @return [0]
    # @raise [ClosedError] if the stream or its memory is closed
    def rewind
      self.pos = 0
      0
    end

    # Whether the position is at (or past) the end. Also {#eof}.
    #
    # @return [Boolean]
    # @raise [ClosedError] if the stream or its memory is closed
    def eof?
      ensure_open
      @pos >= @size
    end
    alias eof eof?

    # Does nothing: the stream is always binary.
    #
    # @return [self]
    # @raise [ClosedError] if the stream or its memory is closed
    def binmode
      ensure_open
      self
    end

    # Always true: the stream is binary.
    #
    # @return [true]
    # @raise [ClosedError] if the stream or its memory is closed
    def binmode?
      ensure_open
      true
    end

    # Always true: writes reach the memory at once.
    #
    # @return [true]
    # @raise [ClosedError] if the stream or its memory is closed
    def sync
      ensure_open
      true
    end

    # Ignored (writes always reach the memory at once), as StringIO does.
    #
    # @param _value [Boolean]
    # @return [nil] (`io.sync = x` evaluates to `x`, as any assignment)
    # @raise [ClosedError] if the stream or its memory is closed
    def sync=(_value)
      ensure_open
    end

    # Does nothing: there is nothing to flush.
    #
    # @return [self]
    # @raise [ClosedError] if the stream or its memory is closed
    def flush
      ensure_open
      self
    end

    # Always false: memory is no terminal. Also {#isatty}.
    #
    # @return [false]
    # @raise [ClosedError] if the stream or its memory is closed
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

    # Whether this stream, or its memory, is closed (false for one never
    # initialized, whose methods raise {ClosedError} all the same).
    #
    # @return [Boolean]
    def closed?
      @closed || (!@memory.nil? && @memory.closed?)
    end

    # Defines `name` as an IO method that has no meaning over memory.
    #
    # @!macro [attach] not_supported
    #   @!method $1(*args)
    #     Not supported: shared memory is not a file. Raises
    #     NotImplementedError (ClosedError first on a closed stream, as IO
    #     does), and `respond_to?` is false for it.
    #     @param args [Array] ignored
    #     @return [void] never returns
    #     @raise [NotImplementedError] always
    # @param name [Symbol]
    # @return [void]
    def self.not_supported(name)
      (@not_supported ||= []) << name
      define_method(name) do |*|
        ensure_open
        raise NotImplementedError, "#{self.class}##{name} is not supported: shared memory is not a file"
      end
    end
    private_class_method :not_supported

    # @!group Not supported (NotImplementedError)

    not_supported :advise
    not_supported :autoclose=
    not_supported :autoclose?
    not_supported :close_on_exec=
    not_supported :close_on_exec?
    not_supported :close_read
    not_supported :close_write
    not_supported :fcntl
    not_supported :fdatasync
    not_supported :fileno
    not_supported :fsync
    not_supported :ioctl
    not_supported :pid
    not_supported :read_nonblock
    not_supported :reopen
    not_supported :stat
    not_supported :sysread
    not_supported :sysseek
    not_supported :syswrite
    not_supported :to_i
    not_supported :to_io
    not_supported :ungetbyte
    not_supported :ungetc
    not_supported :write_nonblock

    # @!endgroup

    # The IO methods that have no meaning over memory (defined above).
    NOT_IMPLEMENTED = remove_instance_variable(:@not_supported).freeze

    # As `Object#respond_to?`, but false for the {NOT_IMPLEMENTED} methods,
    # as for core methods that a platform lacks.
    #
    # @param name [Symbol, String]
    # @param include_all [Boolean] whether private and protected methods count
    # @return [Boolean]
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

    # The next `length` bytes (within the memory), moving past them.
    def take(length)
      data = length.zero? ? String.new(encoding: Encoding::BINARY) : @memory.get_bytes(@pos, length)
      @pos += length
      data
    end

    # `buffer` if it may receive the bytes read, checked before reading.
    def writable_buffer(buffer)
      return nil if buffer.nil?

      string = String.try_convert(buffer) or
        raise TypeError, "no implicit conversion of #{buffer.class} into String"
      raise FrozenError.new("can't modify frozen String: #{string.inspect}", receiver: string) if string.frozen?

      string
    end

    # IO#read's result: `data`, or `buffer` with `data` in it.
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
