defmodule LambdaRuntime.Durable.Wait do
  @moduledoc """
  The wait operation (`LambdaRuntime.Durable.wait/3`): checkpoints a timer
  (`WaitOptions.WaitSeconds`) and suspends; the service invokes the
  function again once the time has passed, and the wait returns `:ok`.
  Nothing runs, and nothing is billed, meanwhile.
  """

  alias LambdaRuntime.Durable.{Context, Duration, Identity, Worker}

  @doc false
  def run(%Context{} = ctx, duration, opts) do
    opts = Context.options!(opts, [:name], "wait")
    seconds = Duration.seconds!(duration)

    if seconds < 1,
      do: raise(ArgumentError, "a wait must last at least 1 second, got #{inspect(duration)}")

    identity = Context.next(ctx, :wait, "Wait", Context.name!(opts[:name]))

    case Context.checkpointed(ctx, identity) do
      %{status: :succeeded} ->
        :ok

      nil ->
        update =
          Identity.update(identity, "START", %{"WaitOptions" => %{"WaitSeconds" => seconds}})

        Context.save!(ctx, update)

        case Context.reload(ctx, identity) do
          %{status: :succeeded} -> :ok
          op -> Worker.suspend(scheduled_end(op, seconds))
        end

      op ->
        Worker.suspend(scheduled_end(op, seconds))
    end
  end

  defp scheduled_end(%{scheduled_end_ms: at}, _seconds) when is_integer(at), do: at
  defp scheduled_end(_op, seconds), do: System.os_time(:millisecond) + seconds * 1000
end
