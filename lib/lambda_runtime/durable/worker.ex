defmodule LambdaRuntime.Durable.Worker do
  @moduledoc """
  The processes that run durable code, and how they stop.

  The handler and every map item or parallel branch run in a worker: a
  process linked to the process that started it (its owner), which reports
  `{tag, pid, outcome}` to the owner when its function returns or raises.

  An operation that cannot go on in this invocation (a wait that has not
  elapsed, a callback not yet answered, a retry scheduled later) *suspends*
  its worker: the owner is told `{tag, pid, {:suspended, resume_at_ms}}`
  and the worker parks, blocked for good, until its owner stops it. No
  stack unwinds through user code, so no `try`/`catch` in a handler can
  swallow a suspension. The owner decides: the runner ends the invocation
  with `PENDING`; a map or parallel waits for its other branches, resumes a
  branch in this invocation when its time comes, or suspends in turn.

  A problem no code can recover from in this invocation (non-determinism, a
  failed or revoked checkpoint) *aborts*: the runner itself is told and
  ends the invocation.
  """

  @owner :"$durable_owner"
  @runner :"$durable_runner"

  @type outcome ::
          {:returned, term()}
          | {:raised, :error | :throw | :exit, term(), list()}
          | {:suspended, integer() | nil}

  @doc """
  Starts a linked worker that runs `fun` and reports to the calling process
  under `tag`. Logger metadata is inherited.
  """
  @spec start(reference(), (() -> term())) :: pid()
  def start(tag, fun) do
    owner = self()
    runner = Process.get(@runner, self())
    metadata = Logger.metadata()

    spawn_link(fn ->
      Process.put(@owner, {owner, tag})
      Process.put(@runner, runner)
      Logger.metadata(metadata)

      outcome =
        try do
          {:returned, fun.()}
        catch
          kind, reason -> {:raised, kind, reason, __STACKTRACE__}
        end

      send(owner, {tag, self(), outcome})
    end)
  end

  @doc "Marks the calling process as the runner (the process that ends the invocation)."
  @spec become_runner() :: :ok
  def become_runner do
    Process.put(@runner, self())
    :ok
  end

  @doc """
  Suspends the calling worker: its owner may resume it by starting it again
  at `resume_at_ms` (epoch milliseconds), or never when `nil`.
  """
  @spec suspend(integer() | nil) :: no_return()
  def suspend(resume_at_ms) do
    case Process.get(@owner) do
      {owner, tag} -> send(owner, {tag, self(), {:suspended, resume_at_ms}})
      nil -> raise ArgumentError, "durable operations can only run inside a durable execution"
    end

    park()
  end

  @doc """
  Ends the invocation from any worker: `reason` is `{:nondeterministic,
  message}`, `{:checkpoint_failed, error}`, `:revoked` or
  `:execution_completed`. An `:orphaned` worker (its map or parallel has
  completed without it) just stops.
  """
  @spec abort(term()) :: no_return()
  def abort(:orphaned), do: exit(:normal)

  def abort(reason) do
    case Process.get(@runner) do
      nil -> raise ArgumentError, "durable operations can only run inside a durable execution"
      runner -> send(runner, {:durable_abort, self(), reason})
    end

    park()
  end

  @doc "Stops a worker and everything it started (its linked workers)."
  @spec stop(pid()) :: :ok
  def stop(pid) do
    Process.unlink(pid)
    Process.exit(pid, :kill)
    :ok
  end

  # Blocks for good without reading the mailbox; the owner stops the process.
  defp park, do: Process.sleep(:infinity)
end
