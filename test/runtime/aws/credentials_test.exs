defmodule LambdaRuntime.AWS.CredentialsTest do
  use ExUnit.Case, async: true

  alias LambdaRuntime.AWS.{Credentials, Endpoint, ProfileFile}

  @moduletag :tmp_dir

  defp files(dir, credentials, config) do
    creds_path = Path.join(dir, "credentials")
    config_path = Path.join(dir, "config")
    File.write!(creds_path, credentials)
    File.write!(config_path, config)
    %{"AWS_SHARED_CREDENTIALS_FILE" => creds_path, "AWS_CONFIG_FILE" => config_path}
  end

  test "environment variables come first", %{tmp_dir: dir} do
    env =
      files(
        dir,
        "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = filesecret\n",
        ""
      )
      |> Map.merge(%{
        "AWS_ACCESS_KEY_ID" => "ENVKEY",
        "AWS_SECRET_ACCESS_KEY" => "envsecret",
        "AWS_SESSION_TOKEN" => "envtoken"
      })

    assert {:ok, creds} = Credentials.resolve(env)

    assert {creds.access_key_id, creds.secret_access_key, creds.session_token} ==
             {"ENVKEY", "envsecret", "envtoken"}

    assert creds.source == "environment variables"
  end

  test "the shared credentials file, by AWS_PROFILE or the :profile option", %{tmp_dir: dir} do
    env =
      files(
        dir,
        """
        # comment
        [default]
        aws_access_key_id = DEFAULTKEY
        aws_secret_access_key = defaultsecret

        [work]
        aws_access_key_id=WORKKEY
        aws_secret_access_key=worksecret ; trailing comment
        aws_session_token = worktoken
        """,
        "[profile work]\nregion = eu-central-1\n"
      )

    assert {:ok, %{access_key_id: "DEFAULTKEY"}} = Credentials.resolve(env)

    assert {:ok, creds} = Credentials.resolve(Map.put(env, "AWS_PROFILE", "work"))
    assert {creds.secret_access_key, creds.session_token} == {"worksecret", "worktoken"}
    assert creds.source == "profile work in the shared credentials file"

    assert {:ok, %{access_key_id: "WORKKEY"}} = Credentials.resolve(env, profile: "work")
    # The profile's region from the config file, when nothing else sets one.
    assert {:ok, %{region: "eu-central-1"}} = Endpoint.resolve("lambda", env, profile: "work")
  end

  test "keys in the config file's [profile NAME] section", %{tmp_dir: dir} do
    env =
      files(
        dir,
        "",
        "[profile cfg]\naws_access_key_id = CFGKEY\naws_secret_access_key = cfgsecret\n"
      )

    assert {:ok, %{access_key_id: "CFGKEY", source: source}} =
             Credentials.resolve(Map.put(env, "AWS_PROFILE", "cfg"))

    assert source =~ "config file"
    # In the config file a bare [cfg] is not a profile section.
    assert ProfileFile.parse("[cfg]\na = 1\n", :config) == %{}
  end

  test "credential_process output gives the keys, token and expiration", %{tmp_dir: dir} do
    script = Path.join(dir, "creds.sh")
    expires = DateTime.utc_now() |> DateTime.add(3600) |> DateTime.to_iso8601()

    File.write!(script, """
    #!/bin/sh
    echo '{"Version": 1, "AccessKeyId": "PROCKEY", "SecretAccessKey": "procsecret",
           "SessionToken": "proctoken", "Expiration": "#{expires}"}'
    """)

    File.chmod!(script, 0o755)
    env = files(dir, "", "[profile proc]\ncredential_process = #{script}\n")

    assert {:ok, creds} = Credentials.resolve(Map.put(env, "AWS_PROFILE", "proc"))

    assert {creds.access_key_id, creds.secret_access_key, creds.session_token} ==
             {"PROCKEY", "procsecret", "proctoken"}

    refute inspect(creds) =~ "procsecret"
    refute inspect(creds) =~ "proctoken"
  end

  test "expired or failing credential_process output is an error", %{tmp_dir: dir} do
    expired = ~s({"AccessKeyId":"K","SecretAccessKey":"S","Expiration":"2001-01-01T00:00:00Z"})
    assert {:error, error} = Credentials.parse_process_output(expired, "credential_process")
    assert error.code == "ExpiredCredentials"
    assert error.message =~ "expired at 2001-01-01T00:00:00Z"

    env = files(dir, "[failing]\ncredential_process = sh -c 'exit 3'\n", "")
    assert {:error, error} = Credentials.resolve(Map.put(env, "AWS_PROFILE", "failing"))
    assert error.message =~ "exited with status 3"

    env = files(dir, "[garbled]\ncredential_process = echo not-json-secret\n", "")
    assert {:error, error} = Credentials.resolve(Map.put(env, "AWS_PROFILE", "garbled"))
    assert error.message =~ "did not print a JSON object"
    refute error.message =~ "not-json-secret"
  end

  describe "#14.14 a key or token with CR or LF" do
    @injected "abc\r\nX-Injected: 1"

    test "from the environment: refused, naming the variable, never the value", %{tmp_dir: dir} do
      env =
        files(dir, "", "")
        |> Map.merge(%{
          "AWS_ACCESS_KEY_ID" => "ENVKEY",
          "AWS_SECRET_ACCESS_KEY" => "envsecret",
          "AWS_SESSION_TOKEN" => @injected
        })

      assert {:error, error} = Credentials.resolve(env)
      assert error.code == "InvalidCredentials"
      assert error.message =~ "session token from the environment (AWS_SESSION_TOKEN)"
      refute Exception.message(error) =~ "Injected"
      refute Exception.message(error) =~ "abc"

      env = %{env | "AWS_SESSION_TOKEN" => "fine", "AWS_ACCESS_KEY_ID" => "KEY\nX"}
      assert {:error, %{message: message}} = Credentials.resolve(env)
      assert message =~ "access key id from the environment (AWS_ACCESS_KEY_ID)"
    end

    test "from the credentials file and from credential_process", %{tmp_dir: dir} do
      env =
        files(
          dir,
          "[default]\naws_access_key_id = K\naws_secret_access_key = S\n" <>
            "aws_session_token = abc\rX-Injected: 1\n",
          ""
        )

      assert {:error, error} = Credentials.resolve(env)

      assert error.message =~
               "session token from the profile default in the shared credentials file"

      refute Exception.message(error) =~ "Injected"

      json = ~s({"AccessKeyId":"K","SecretAccessKey":"S","SessionToken":"abc\\r\\nX-Injected: 1"})
      script = Path.join(dir, "creds.sh")
      File.write!(script, "#!/bin/sh\nprintf '%s\\n' '#{json}'\n")
      File.chmod!(script, 0o755)
      env = files(dir, "", "[profile proc]\ncredential_process = #{script}\n")

      assert {:error, error} = Credentials.resolve(Map.put(env, "AWS_PROFILE", "proc"))
      assert error.message =~ "session token from the credential_process of profile proc"
      refute Exception.message(error) =~ "Injected"
    end
  end

  test "#14.12 an endpoint's user:password is dropped, and redacted in errors" do
    env = %{"AWS_REGION" => "eu-west-1", "HOME" => "/nonexistent"}

    assert {:ok, ep} =
             Endpoint.resolve(
               "lambda",
               Map.put(env, "AWS_ENDPOINT_URL", "http://key:hunter2@127.0.0.1:5000")
             )

    assert ep.uri.userinfo == nil
    assert URI.to_string(ep.uri) == "http://127.0.0.1:5000"

    for bad <- ["ftp://key:hunter2@host", "key:hunter2@localhost:4566", "http://u:p@ss@"] do
      assert {:error, error} =
               Endpoint.resolve("lambda", Map.put(env, "AWS_ENDPOINT_URL_LAMBDA", bad))

      assert error.code == "InvalidEndpoint"
      assert error.message =~ "***@"
      refute error.message =~ "hunter2"
      refute error.message =~ "p@ss"
    end
  end

  test "no credentials anywhere says where they were looked for", %{tmp_dir: dir} do
    env = files(dir, "", "")
    assert {:error, error} = Credentials.resolve(env)
    assert error.code == "NoCredentials"
    assert error.message =~ "AWS_ACCESS_KEY_ID"
    assert error.hint =~ "aws configure"

    env = files(dir, "[sso]\nsso_start_url = https://example\n", "")
    assert {:error, error} = Credentials.resolve(Map.put(env, "AWS_PROFILE", "sso"))
    assert error.message =~ "no aws_access_key_id"
  end

  test "region precedence and endpoint overrides" do
    env = %{
      "AWS_REGION" => "eu-west-1",
      "AWS_DEFAULT_REGION" => "us-west-2",
      "HOME" => "/nonexistent"
    }

    assert {:ok, %{region: "ap-south-1"}} = Endpoint.resolve("lambda", env, region: "ap-south-1")
    assert {:ok, %{region: "eu-west-1"} = ep} = Endpoint.resolve("lambda", env)
    assert URI.to_string(ep.uri) == "https://lambda.eu-west-1.amazonaws.com"

    assert {:ok, %{region: "us-west-2"}} =
             Endpoint.resolve("lambda", Map.delete(env, "AWS_REGION"))

    assert {:ok, ep} = Endpoint.resolve("lambda", %{env | "AWS_REGION" => "cn-north-1"})
    assert ep.uri.host == "lambda.cn-north-1.amazonaws.com.cn"

    env = Map.put(env, "AWS_ENDPOINT_URL", "http://127.0.0.1:1/")

    assert {:ok, %{uri: %URI{scheme: "http", port: 1, path: ""}}} =
             Endpoint.resolve("lambda", env)

    env = Map.put(env, "AWS_ENDPOINT_URL_LAMBDA", "http://127.0.0.2:2")
    assert {:ok, %{uri: %URI{host: "127.0.0.2"}}} = Endpoint.resolve("lambda", env)
    assert {:ok, %{uri: %URI{host: "127.0.0.1"}}} = Endpoint.resolve("iam", env)

    env = Map.put(env, "AWS_ENDPOINT_URL_LAMBDA", "localhost:4566")
    assert {:error, %{code: "InvalidEndpoint"}} = Endpoint.resolve("lambda", env)
  end
end
