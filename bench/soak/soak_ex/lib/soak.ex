defmodule Soak do
  @moduledoc """
  The soak handler (`Soak.handle`): one event `{"kind": K, "id": N}`.

  | kind    | response                                                       |
  | ------- | -------------------------------------------------------------- |
  | `ok`    | `{"kind": "ok", "id": N}`                                      |
  | `raise` | raises `Soak.Boom` ("boom N"): a function error                |
  | `large` | `{"kind": "large", "id": N, "data": D}`, D = 1 MiB of one letter (`a` + N mod 26), built anew each time |
  | `slow`  | sleeps 50 ms, then `{"kind": "slow", "id": N}`                 |
  | `stats` | the VM's process, port and ETS table counts and memory         |
  """

  @large_bytes 1_048_576
  @slow_ms 50

  defmodule Boom do
    @moduledoc "The soak's deliberate failure."
    defexception [:id]

    @impl true
    def message(%{id: id}), do: "boom #{id}"
  end

  @doc "Dispatches on the event's kind."
  def handle(%{"kind" => "ok", "id" => id}, _context), do: {:ok, %{kind: "ok", id: id}}

  def handle(%{"kind" => "raise", "id" => id}, _context), do: raise(Boom, id: id)

  def handle(%{"kind" => "large", "id" => id}, _context) do
    data = :binary.copy(<<?a + rem(id, 26)>>, @large_bytes)
    {:ok, %{kind: "large", id: id, data: data}}
  end

  def handle(%{"kind" => "slow", "id" => id}, _context) do
    Process.sleep(@slow_ms)
    {:ok, %{kind: "slow", id: id}}
  end

  def handle(%{"kind" => "stats", "id" => id}, _context) do
    {:ok,
     %{
       kind: "stats",
       id: id,
       processes: :erlang.system_info(:process_count),
       ports: length(:erlang.ports()),
       ets: length(:ets.all()),
       atoms: :erlang.system_info(:atom_count),
       memory: :erlang.memory(:total),
       binary: :erlang.memory(:binary)
     }}
  end
end
