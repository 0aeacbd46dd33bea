from sesizari.cli import main

main()
