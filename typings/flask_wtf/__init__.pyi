from .csrf import CSRFProtect as CSRFProtect

__version__: str
