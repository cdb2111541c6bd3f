defmodule LambdaRuntime.TestSupport.Fault.SharedRuntime do
  @moduledoc """
  A runtime (the real `bootstrap.sh` with the fixture project) that several
  fault tests share: started in `setup_all`, owned by a process of its own
  that keeps everything the runtime prints, so that any test can read it.
  """

  alias LambdaRuntime.TestSupport.{FaultApi, Fixture, Wait}

  defstruct [:api, :holder, :runtime]

  @doc "Starts a FaultApi (unless `api` is given) and a runtime against `runtime_api`."
  def start!(handler, opts \\ []) do
    api = Keyword.get_lazy(opts, :api, &FaultApi.start!/0)
    runtime_api = Keyword.get(opts, :runtime_api, FaultApi.runtime_api(api))
    parent = self()
    ref = make_ref()

    holder =
      spawn(fn ->
        runtime = Fixture.start_runtime!(runtime_api, handler)
        send(parent, {ref, runtime})
        hold(runtime.port, [], nil)
      end)

    receive do
      {^ref, runtime} -> %__MODULE__{api: api, holder: holder, runtime: runtime}
    after
      60_000 -> raise "the shared runtime did not start"
    end
  end

  @doc "Kills the runtime and stops the API."
  def stop(%__MODULE__{api: api, holder: holder, runtime: runtime}) do
    Fixture.kill_runtime(runtime)
    Process.exit(holder, :kill)
    FaultApi.stop(api)
  end

  @doc "Everything the runtime printed so far, and its exit status (nil while it runs)."
  def output(%__MODULE__{holder: holder}) do
    ref = make_ref()
    send(holder, {:get, self(), ref})

    receive do
      {^ref, output, status} -> {output, status}
    after
      5_000 -> raise "the runtime holder does not answer"
    end
  end

  @doc "Everything the runtime printed, once it contains `text`; fails after `timeout` ms."
  def await_output(shared, text, timeout \\ 10_000) do
    Wait.until(
      fn ->
        {output, _status} = output(shared)
        if output =~ text, do: output
      end,
      timeout: timeout,
      interval: 20,
      message: fn -> "the runtime never printed #{inspect(text)}:\n#{elem(output(shared), 0)}" end
    )
  end

  defp hold(port, acc, status) do
    receive do
      {^port, {:data, data}} ->
        hold(port, [acc | data], status)

      {^port, {:exit_status, code}} ->
        hold(port, acc, code)

      {:get, from, ref} ->
        send(from, {ref, IO.iodata_to_binary(acc), status})
        hold(port, acc, status)
    end
  end
end
