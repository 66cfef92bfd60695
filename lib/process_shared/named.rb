# frozen_string_literal: true

module ProcessShared
  # What every class has for named objects: objects that processes which
  # are not parent and child share by a name (`name:`, a POSIX shared-memory
  # object) or a file (`path:`). Every class's `new` takes, after its own
  # arguments:
  #
  # - `name:` — 1 to 24 characters of `A-Z a-z 0-9 . _ -`, starting with a
  #   letter or digit (`ArgumentError` otherwise). It is stored as
  #   `/rbps.NAME` (`/dev/shm/rbps.NAME` on Linux), apart from other
  #   programs' objects, and fits macOS's 31-byte limit.
  # - `path:` — a regular file (String or Pathname), which survives reboots.
  # - `create:` — `true` (the default: open, or create if missing),
  #   `:exclusive` (create; `Errno::EEXIST` if it exists) or `false` (open;
  #   `Errno::ENOENT` if missing).
  # - `mode:` — the permissions of an object this call creates, applied
  #   exactly whatever the umask (default `0o600`: the owner only). Given
  #   when opening, the object must have exactly that mode
  #   (`Errno::EACCES` otherwise), and it is what lets one user open
  #   another user's object: without `mode:`, an object owned by another
  #   user is refused with `Errno::EACCES`.
  #
  # Every named object starts with a header recording its class, element
  # type and size: opening it as another class raises `TypeError`, with
  # another type or size `ArgumentError`, naming both. Initial values (a
  # semaphore's count) apply only when the object is created. Of many
  # processes creating one name at once, exactly one initializes it; one
  # killed half-way leaves a name the next process can open. Names are
  # opened without following symlinks, close-on-exec, and no file
  # descriptor stays open once the object is mapped. Naming works alike on
  # Linux and macOS: a named object sleeps on futex words in its own memory
  # (`__ulock_wait` on macOS), never on a kernel object that only its
  # creator or the children it forks could reach.
  #
  # A name lasts until it is unlinked ({#unlink}, {ClassMethods#unlink}),
  # even when no process uses it: remove names when the service stops for
  # good. Processes that have an object keep using it after its name is
  # removed.
  #
  # @example Two programs sharing a counter
  #   # in each program:
  #   lock = ProcessShared::Mutex.new(name: "myapp.lock")
  #   hits = ProcessShared::SharedArray.new(:int64, 1, name: "myapp.hits")
  #   lock.synchronize { hits[0] += 1 }
  module Named
    # @!method name
    #   The name given as `name:`.
    #   @return [String, nil] nil for an object made with `path:` or
    #     anonymous
    #   @raise [ClosedError] after `close`

    # @!method path
    #   The file given as `path:`, or where the system shows a named
    #   shared-memory object (`/dev/shm/rbps.NAME` on Linux).
    #   @return [String, nil] nil for an anonymous object (and a named one
    #     on macOS)
    #   @raise [ClosedError] after `close`

    # @!method unlink
    #   Removes the object's name (or file). Every process that has the
    #   object keeps using it; the next `new` with that name makes a new one.
    #   @return [Boolean] true if it removed the name, false if the name
    #     was already gone
    #   @raise [ArgumentError] for an anonymous object
    #   @raise [ClosedError] after `close`

    # `Klass.unlink`, on every class that has named objects.
    module ClassMethods
      # @!method unlink(name = nil, path: nil)
      #   Removes a name (or, with `path:`, a file), whatever it holds.
      #   @param name [String] a name as given to `new(name:)`
      #   @param path [String, Pathname] a file as given to `new(path:)`
      #   @return [Boolean] true if it removed one, false if there was none
      #   @raise [ArgumentError] for an invalid name, or neither or both
    end
  end

  # @!method self.named_objects
  #   The names this gem's objects have in `/dev/shm`, with the class each
  #   holds.
  #   @example
  #     ProcessShared.named_objects # => {"myapp.lock" => ProcessShared::Mutex}
  #   @return [Hash{String => Class, nil}] nil for an object that cannot
  #     be read (another user's, or not yet initialized)
  #   @raise [NotImplementedError] on macOS, which cannot list them
end
