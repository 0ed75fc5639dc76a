"""JupyterLab 3.6.8 for the browser check: the frontend built in build/ (npm run build here), served by
jupyterlab_server's LabServerApp on jupyter_server (Debian's python3-jupyter-server and
python3-jupyterlab-server), as jupyterlab's examples/app does. Usage (the arguments are
jupyter_server's): python3 server.py --ServerApp.root_dir=DIR --ServerApp.port=PORT ...
"""
import os

from jupyterlab_server import LabServerApp

HERE = os.path.dirname(os.path.abspath(__file__))
# The built frontend: here, or a cached copy (scripts/jupyterlab-build.sh).
BUILD = os.environ.get("GPT2_LAB_JUPYTERLAB_BUILD", os.path.join(HERE, "build"))

# Configuration files on disk must not change what the check sees.
os.environ["JUPYTER_NO_CONFIG"] = "1"


def _jupyter_server_extension_points():
    # jupyter_server finds the app through this module (named in `CheckLab.name`).
    return [{"module": __name__, "app": CheckLab}]


class CheckLab(LabServerApp):
    extension_url = "/lab"
    default_url = "/lab"
    name = __name__
    load_other_extensions = False
    app_name = "JupyterLab"
    app_version = "3.6.8"
    app_settings_dir = os.path.join(BUILD, "application_settings")
    schemas_dir = os.path.join(BUILD, "schemas")
    static_dir = BUILD
    templates_dir = os.path.join(HERE, "templates")
    themes_dir = os.path.join(BUILD, "themes")
    user_settings_dir = os.path.join(BUILD, "user_settings")
    workspaces_dir = os.path.join(BUILD, "workspaces")

    def initialize_settings(self):
        super().initialize_settings()
        self.serverapp.web_app.settings["terminals_available"] = False


if __name__ == "__main__":
    CheckLab.launch_instance()
